"""Image files with metadata, for the metadata-removal tests: one JPEG made byte by byte, and
files written by Pillow with EXIF GPS, XMP, comments and PNG text chunks."""

from __future__ import annotations

import io
import struct
import zlib

from PIL import Image, PngImagePlugin

GPS_MARK = b"GPS-SECRET-37.7749N"
TEXT_MARK = b"Author-Alex-Example"


def _segment(marker: int, payload: bytes) -> bytes:
    return bytes([0xFF, marker]) + struct.pack(">H", len(payload) + 2) + payload


def _exif_with_gps() -> bytes:
    """A little-endian TIFF block whose IFD0 points to a GPS IFD holding a latitude reference
    and a user comment (made-up values with a recognisable marker)."""
    def entry(tag: int, kind: int, count: int, value: bytes) -> bytes:
        return struct.pack("<HHI", tag, kind, count) + value.ljust(4, b"\0")

    gps_text = GPS_MARK + b"\0"
    ifd0 = struct.pack("<H", 1) + entry(0x8825, 4, 1, struct.pack("<I", 26)) + b"\0\0\0\0"
    gps_offset_data = 26 + 2 + 2 * 12 + 4
    gps = (struct.pack("<H", 2) + entry(0x0001, 2, 2, b"N\0")
           + entry(0x001B, 7, len(gps_text), struct.pack("<I", gps_offset_data)) + b"\0\0\0\0")
    tiff = b"II*\0" + struct.pack("<I", 8) + ifd0 + gps + gps_text
    return b"Exif\0\0" + tiff


def handmade_jpeg() -> bytes:
    """An 8x8 grey baseline JPEG written by hand: JFIF with a thumbnail, EXIF with GPS, XMP,
    IPTC, an ICC profile, a comment, the tables a decoder needs, one scan, and data after the
    end marker."""
    jfif = b"JFIF\0" + bytes([1, 1, 0, 0, 1, 0, 1, 1, 1]) + b"\x80\x80\x80"  # 1x1 thumbnail
    xmp = b"http://ns.adobe.com/xap/1.0/\0<x:xmpmeta>" + TEXT_MARK + b"</x:xmpmeta>"
    iptc = b"Photoshop 3.0\0" + b"8BIM\x04\x04\0\0\0\0\0\x10" + TEXT_MARK[:16]
    icc = b"ICC_PROFILE\0\x01\x01" + b"device: " + TEXT_MARK
    quant = b"\x00" + bytes([1] * 64)
    frame = b"\x08\x00\x08\x00\x08\x01\x01\x11\x00"  # 8 bits, 8x8, one component
    # One code of length 1 in each table: DC category 0, AC end-of-block.
    dc = b"\x00" + bytes([1] + [0] * 15) + b"\x00"
    ac = b"\x10" + bytes([1] + [0] * 15) + b"\x00"
    scan = b"\x01\x01\x00\x00\x3f\x00"
    return (b"\xff\xd8" + _segment(0xE0, jfif) + _segment(0xE1, _exif_with_gps())
            + _segment(0xE1, xmp) + _segment(0xED, iptc) + _segment(0xE2, icc)
            + _segment(0xFE, b"comment: " + TEXT_MARK) + _segment(0xDB, quant)
            + _segment(0xC0, frame) + _segment(0xC4, dc) + _segment(0xC4, ac)
            + _segment(0xDA, scan) + b"\x3f" + b"\xff\xd9" + b"trailer " + GPS_MARK)


def pillow_picture(size: tuple[int, int] = (64, 48)) -> Image.Image:
    image = Image.new("RGB", size)
    image.putdata([((x * 4) % 256, (y * 5) % 256, (x * y) % 256)
                   for y in range(size[1]) for x in range(size[0])])
    return image


def pillow_jpeg(progressive: bool = False) -> bytes:
    exif = Image.Exif()
    exif[0x010F] = "PhoneMaker"  # Make
    exif[0x0131] = TEXT_MARK.decode()  # Software
    gps = exif.get_ifd(0x8825)
    gps[1], gps[3] = "N", "W"
    gps[2] = (37.0, 46.0, 29.64)
    gps[27] = GPS_MARK.decode()
    out = io.BytesIO()
    pillow_picture().save(out, "JPEG", exif=exif, progressive=progressive, quality=90,
                          comment=b"comment " + TEXT_MARK,
                          xmp=b"<x:xmpmeta>" + TEXT_MARK + b"</x:xmpmeta>")
    return out.getvalue()


def pillow_png() -> bytes:
    info = PngImagePlugin.PngInfo()
    info.add_text("Author", TEXT_MARK.decode())
    info.add_text("Comment", "compressed " + TEXT_MARK.decode(), zip=True)
    info.add_itxt("Description", "international " + TEXT_MARK.decode(), lang="en")
    out = io.BytesIO()
    pillow_picture().save(out, "PNG", pnginfo=info, exif=b"Exif\0\0" + _exif_with_gps()[6:])
    data = out.getvalue()
    # Pillow writes no tIME chunk: add one after the header, with its CRC.
    time_data = struct.pack(">HBBBBB", 2026, 3, 4, 5, 6, 7)
    time_chunk = (struct.pack(">I", len(time_data)) + b"tIME" + time_data
                  + struct.pack(">I", zlib.crc32(b"tIME" + time_data)))
    header_end = 8 + 25
    return data[:header_end] + time_chunk + data[header_end:] + b"trailer " + GPS_MARK


def decoded(data: bytes) -> tuple[str, tuple[int, int], bytes]:
    with Image.open(io.BytesIO(data)) as image:
        image.load()
        return image.mode, image.size, image.tobytes()
