"""A numpy RLE Lossless encoder (DICOM PS3.5 Annex G), byte-identical to pydicom's own.

The sample writer encodes every frame it writes with it: pydicom's own encoder takes
about 47 ms per 384x384 frame.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

__all__ = ["rle_encode_frame"]


def rle_encode_frame(frame: NDArray[np.uint16]) -> bytes:
    """Encode one 16-bit frame as DICOM RLE Lossless (PS3.5 Annex G), vectorised.

    Gives the same bytes as pydicom's native RLE encoder (``encoding_plugin="pydicom"``),
    which works a byte at a time in Python and takes about ten times longer. The sample
    dataset is thus byte-identical whether or not pylibjpeg is installed.

    Parameters
    ----------
    frame : ndarray of uint16, shape (rows, cols)
        The pixel values, in either byte order.

    Returns
    -------
    bytes
        One RLE frame: the 64-byte header and two segments (high bytes, then low bytes),
        ready for :func:`pydicom.encaps.encapsulate`.

    Raises
    ------
    ValueError
        If ``frame`` is not a 2-D uint16 array.

    Examples
    --------
    >>> import numpy as np
    >>> frame = rle_encode_frame(np.array([[7, 7, 7, 1]], dtype=np.uint16))
    >>> frame[64:]  # high bytes: 4 zeros; low bytes: three 7s, then a literal 1
    b'\\xfd\\x00\\xfe\\x07\\x00\\x01'
    """
    arr = np.asarray(frame)
    if arr.ndim != 2 or arr.dtype.kind != "u" or arr.dtype.itemsize != 2:
        raise ValueError(
            f"frame: expected a 2-D uint16 array, got {arr.ndim}-D {arr.dtype}; "
            f"convert it with arr.astype(np.uint16)"
        )
    le = arr.astype("<u2", copy=False)
    segments = [_rle_segment((le >> 8).astype(np.uint8)), _rle_segment(le.astype(np.uint8))]
    header = np.zeros(16, dtype="<u4")
    header[0] = 2
    header[1] = 64
    header[2] = 64 + len(segments[0])
    return header.tobytes() + segments[0] + segments[1]


def _rle_segment(plane: NDArray[np.uint8]) -> bytes:
    """PackBits of each row of a byte plane, as pydicom's native encoder does it.

    pydicom's rules: a run of 2 or more equal bytes is a replicate run (split in pieces
    of 128; a leftover single byte is a literal run of one); the bytes between runs form
    literal runs of at most 128; every row is encoded on its own; an odd-length segment
    is padded with one zero byte.
    """
    cols = plane.shape[1]
    b = plane.reshape(-1)
    n = b.size
    pos = np.arange(n)
    starts_run = np.ones(n, dtype=bool)
    starts_run[1:] = (b[1:] != b[:-1]) | (pos[1:] % cols == 0)
    run_start = np.flatnonzero(starts_run)
    run_len = np.diff(np.append(run_start, n))

    # Replicate runs, cut into pieces of at most 128 bytes.
    rep_start = run_start[run_len >= 2]
    rep_len = run_len[run_len >= 2]
    n_pieces = (rep_len + 127) // 128
    piece_of = np.repeat(np.arange(rep_len.size), n_pieces)
    k = np.arange(piece_of.size) - np.repeat(np.cumsum(n_pieces) - n_pieces, n_pieces)
    rep_pos = rep_start[piece_of] + 128 * k
    rep_plen = np.minimum(128, rep_len[piece_of] - 128 * k)

    # Literal bytes: the runs of length 1, grouped into spans broken by replicate runs and
    # row ends, then cut into chunks of at most 128.
    single = np.repeat(run_len == 1, run_len)
    lit = np.flatnonzero(single)
    new_span = np.ones(lit.size, dtype=bool)
    new_span[1:] = (lit[1:] != lit[:-1] + 1) | (lit[1:] % cols == 0)
    span_id = np.cumsum(new_span) - 1
    span_first = lit[new_span]
    span_len = np.diff(np.append(np.flatnonzero(new_span), lit.size))
    offset = lit - span_first[span_id]
    new_chunk = offset % 128 == 0
    chunk_pos = lit[new_chunk]
    chunk_len = np.minimum(128, span_len[span_id[new_chunk]] - offset[new_chunk])

    piece_pos = np.concatenate([rep_pos, chunk_pos])
    piece_len = np.concatenate([rep_plen, chunk_len])
    is_lit = np.concatenate([np.zeros(rep_pos.size, bool), np.ones(chunk_pos.size, bool)])
    order = np.argsort(piece_pos, kind="stable")
    piece_pos, piece_len, is_lit = piece_pos[order], piece_len[order], is_lit[order]
    out_len = np.where(is_lit, piece_len + 1, 2)
    out_at = np.cumsum(out_len) - out_len
    total = int(out_len.sum())
    out = np.zeros(total + total % 2, dtype=np.uint8)
    out[out_at] = np.where(is_lit | (piece_len == 1), piece_len - 1, 257 - piece_len).astype(
        np.uint8
    )
    out[out_at[~is_lit] + 1] = b[piece_pos[~is_lit]]
    chunk_id = np.cumsum(new_chunk) - 1
    lit_out_at = out_at[is_lit]
    out[lit_out_at[chunk_id] + 1 + (lit - chunk_pos[chunk_id])] = b[lit]
    return out.tobytes()
