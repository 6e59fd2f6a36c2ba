"""Writes the document-cleaning vectors beside this script: per format, an input with planted
metadata and a JSON file saying what must be gone after cleaning and what must remain.

Run from the repository root: ``.venv/bin/python tests/vectors/cleaning/make_vectors.py``. The
output is deterministic (fixed zip dates, hand-written PDF bytes), so running it again changes
nothing; the files are committed so that both cleaners (Python and the browser's) read the same
bytes. Every planted value contains ``PLANTED`` or a name below; the ``gone`` lists name them.
"""

from __future__ import annotations

import io
import json
import struct
import sys
import zipfile
import zlib
from pathlib import Path

import pikepdf

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parents[2]))
from tests.support.images import GPS_MARK, TEXT_MARK, handmade_jpeg  # noqa: E402

DATE = (2024, 3, 14, 15, 9, 26)  # a recognisable edit time, planted in every zip entry


def png_with_text(text: bytes) -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        return (struct.pack(">I", len(data)) + kind + data
                + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF))

    header = struct.pack(">IIBBBBB", 1, 1, 8, 0, 0, 0, 0)  # 1x1, 8-bit grey
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"tEXt", b"Author\x00" + text)
            + chunk(b"IDAT", zlib.compress(b"\x00\x80")) + chunk(b"IEND", b""))


def write_zip(path: Path, entries: list[tuple[str, bytes]]) -> None:
    with zipfile.ZipFile(path, "w") as archive:
        for name, data in entries:
            info = zipfile.ZipInfo(name, DATE)
            info.compress_type = zipfile.ZIP_STORED if name == "mimetype" else zipfile.ZIP_DEFLATED
            archive.writestr(info, data)


XML = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
CORE = XML + (
    '<cp:coreProperties xmlns:cp="http://schemas.openxmlformats.org/package/2006/metadata/'
    'core-properties" xmlns:dc="http://purl.org/dc/elements/1.1/" '
    'xmlns:dcterms="http://purl.org/dc/terms/" '
    'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">'
    '<dc:creator>Planted Creator</dc:creator><cp:lastModifiedBy>Planted Modifier'
    '</cp:lastModifiedBy><dc:title>PLANTED-TITLE</dc:title>'
    '<dcterms:created xsi:type="dcterms:W3CDTF">2024-03-14T15:09:26Z</dcterms:created>'
    '</cp:coreProperties>')
APP = XML + (
    '<Properties xmlns="http://schemas.openxmlformats.org/officeDocument/2006/extended-properties">'
    '<Company>Planted Company</Company><Manager>Planted Manager</Manager>'
    '<TotalTime>137</TotalTime></Properties>')
CUSTOM = XML + (
    '<Properties xmlns="http://schemas.openxmlformats.org/officeDocument/2006/custom-properties" '
    'xmlns:vt="http://schemas.openxmlformats.org/officeDocument/2006/docPropsVTypes">'
    '<property fmtid="{D5CDD505-2E9C-101B-9397-08002B2CF9AE}" pid="2" name="Department">'
    '<vt:lpwstr>PLANTED-DEPARTMENT</vt:lpwstr></property></Properties>')
PACKAGE_RELS = XML + (
    '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
    'relationships/officeDocument" Target="{main}"/>'
    '<Relationship Id="rId2" Type="http://schemas.openxmlformats.org/package/2006/relationships/'
    'metadata/core-properties" Target="docProps/core.xml"/>'
    '<Relationship Id="rId3" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
    'relationships/extended-properties" Target="docProps/app.xml"/>'
    '<Relationship Id="rId4" Type="http://schemas.openxmlformats.org/package/2006/relationships/'
    'metadata/thumbnail" Target="docProps/thumbnail.png"/>'
    '<Relationship Id="rId5" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
    'relationships/custom-properties" Target="docProps/custom.xml"/></Relationships>')


def content_types(main_type: str, main: str, extra: str = "") -> str:
    return XML + (
        '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
        '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.'
        'relationships+xml"/><Default Extension="xml" ContentType="application/xml"/>'
        '<Default Extension="png" ContentType="image/png"/>'
        '<Default Extension="bin" ContentType="application/vnd.openxmlformats-officedocument.'
        'spreadsheetml.printerSettings"/>'
        f'<Override PartName="/{main}" ContentType="{main_type}"/>'
        '<Override PartName="/docProps/core.xml" ContentType="application/vnd.openxmlformats-'
        'package.core-properties+xml"/>'
        '<Override PartName="/docProps/app.xml" ContentType="application/vnd.openxmlformats-'
        'officedocument.extended-properties+xml"/>'
        '<Override PartName="/docProps/custom.xml" ContentType="application/vnd.openxmlformats-'
        'officedocument.custom-properties+xml"/>'
        '<Override PartName="/docProps/thumbnail.png" ContentType="image/png"/>'
        f'{extra}</Types>')


def common_parts(main_type: str, main: str, extra: str = "") -> list[tuple[str, bytes]]:
    return [("[Content_Types].xml", content_types(main_type, main, extra).encode()),
            ("_rels/.rels", PACKAGE_RELS.format(main=main).encode()),
            ("docProps/core.xml", CORE.encode()), ("docProps/app.xml", APP.encode()),
            ("docProps/custom.xml", CUSTOM.encode()),
            ("docProps/thumbnail.png", png_with_text(b"PLANTED-THUMBNAIL"))]


COMMON_GONE = ["Planted Creator", "Planted Modifier", "PLANTED-TITLE", "Planted Company",
               "Planted Manager", "PLANTED-DEPARTMENT", "PLANTED-THUMBNAIL",
               "2024-03-14T15:09:26Z"]
W = ('xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main" '
     'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships" '
     'xmlns:w14="http://schemas.microsoft.com/office/word/2010/wordml" '
     'xmlns:mc="http://schemas.openxmlformats.org/markup-compatibility/2006" mc:Ignorable="w14"')


def docx() -> tuple[list[tuple[str, bytes]], dict[str, object]]:
    main = "word/document.xml"
    document = XML + (
        f'<w:document {W}><w:body>'
        '<w:p w:rsidR="00A1B2C3" w:rsidRDefault="00A1B2C3"><w:r><w:t>Visible words remain.</w:t>'
        '</w:r><w:ins w:id="1" w:author="Planted Changer" w:date="2024-03-14T15:09:26Z">'
        '<w:r><w:t>Inserted words remain.</w:t></w:r></w:ins>'
        '<w:del w:id="2" w:author="Planted Deleter" w:date="2024-03-14T15:09:26Z"><w:r>'
        '<w:delText>Deleted words.</w:delText></w:r></w:del>'
        '<w:commentRangeStart w:id="0"/><w:r><w:t>Commented.</w:t></w:r>'
        '<w:commentRangeEnd w:id="0"/><w:r><w:commentReference w:id="0"/></w:r></w:p>'
        '<w:p><w:r><w:drawing><w:inline><w:blip r:embed="rId3"/></w:inline></w:drawing></w:r></w:p>'
        '<w:sectPr w:rsidR="00D4E5F6"/></w:body></w:document>')
    comments = XML + (
        f'<w:comments {W}><w:comment w:id="0" w:author="Planted Commenter" '
        'w:date="2024-03-14T15:09:26Z" w:initials="PCX"><w:p><w:r><w:t>A comment remains.</w:t>'
        '</w:r></w:p></w:comment></w:comments>')
    people = XML + (
        '<w15:people xmlns:w15="http://schemas.microsoft.com/office/word/2012/wordml">'
        '<w15:person w15:author="Planted Person"><w15:presenceInfo w15:providerId="AD" '
        'w15:userId="S::planted.person@example.org"/></w15:person></w15:people>')
    settings = XML + (
        f'<w:settings {W}><w:attachedTemplate r:id="rId1"/><w:docVars><w:docVar '
        'w:name="PlantedVariable" w:val="PLANTED-VARIABLE"/></w:docVars><w:rsids><w:rsidRoot '
        'w:val="00A1B2C3"/><w:rsid w:val="00D4E5F6"/></w:rsids>'
        '<w14:docId w14:val="5EEDF00D"/></w:settings>')
    settings_rels = XML + (
        '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
        '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
        'relationships/attachedTemplate" Target="file:///C:\\Users\\planted.user\\AppData\\'
        'Roaming\\Microsoft\\Templates\\Normal.dotm" TargetMode="External"/></Relationships>')
    rels = XML + (
        '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
        '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
        'relationships/comments" Target="comments.xml"/>'
        '<Relationship Id="rId2" Type="http://schemas.microsoft.com/office/2011/relationships/'
        'people" Target="people.xml"/>'
        '<Relationship Id="rId3" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
        'relationships/image" Target="media/image1.png"/>'
        '<Relationship Id="rId4" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
        'relationships/settings" Target="settings.xml"/>'
        '<Relationship Id="rId5" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
        'relationships/hyperlink" Target="file:///C:/Users/planted.linker/notes.txt" '
        'TargetMode="External"/>'
        '<Relationship Id="rId6" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
        'relationships/image" Target="https://planted.example/beacon.png" '
        'TargetMode="External"/></Relationships>')
    entries = [
        *common_parts(
            "application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml",
            main,
            '<Override PartName="/word/comments.xml" ContentType="application/vnd.'
            'openxmlformats-officedocument.wordprocessingml.comments+xml"/>',
        ),
        (main, document.encode()),
        ("word/_rels/document.xml.rels", rels.encode()),
        ("word/comments.xml", comments.encode()),
        ("word/people.xml", people.encode()),
        ("word/settings.xml", settings.encode()),
        ("word/_rels/settings.xml.rels", settings_rels.encode()),
        ("word/media/image1.png", png_with_text(b"PLANTED-IMAGE-TEXT")),
        # An image is known by its bytes, not its name; one of another format is kept.
        ("word/media/image2.bin", png_with_text(b"PLANTED-MISNAMED-IMAGE")),
        ("word/media/image3.gif", b"GIF89a\x01\x00\x01\x00\x00\x00\x00;"),
        ("_xmlsignatures/sig1.xml", (XML + '<Signature><Object>PLANTED-SIGNER</Object>'
                                     '</Signature>').encode()),
        # Core properties where .NET's packaging writes them: the relationship's type says.
        ("package/services/metadata/core-properties/0a1b2c.psmdcp", (
            XML + '<coreProperties xmlns="http://schemas.openxmlformats.org/package/2006/'
            'metadata/core-properties" xmlns:dc="http://purl.org/dc/elements/1.1/"><dc:creator>'
            'Planted Packager</dc:creator></coreProperties>').encode()),
    ]
    package_rels = entries[1][1].replace(b"</Relationships>", (
        b'<Relationship Id="rId9" Type="http://schemas.openxmlformats.org/package/2006/'
        b'relationships/metadata/core-properties" Target="/package/services/metadata/'
        b'core-properties/0a1b2c.psmdcp"/><Relationship Id="rId10" Type="http://'
        b'schemas.openxmlformats.org/package/2006/relationships/digital-signature/origin" '
        b'Target="_xmlsignatures/sig1.xml"/></Relationships>'))
    entries[1] = ("_rels/.rels", package_rels)
    expect = {
        "gone": [*COMMON_GONE, "Planted Changer", "Planted Deleter", "Planted Commenter", "PCX",
                 "Planted Person", "planted.person@example.org", "00A1B2C3", "00D4E5F6",
                 "PLANTED-IMAGE-TEXT", "planted.user", "attachedTemplate", "PLANTED-VARIABLE",
                 "5EEDF00D", "PLANTED-MISNAMED-IMAGE", "PLANTED-SIGNER", "Planted Packager",
                 "_xmlsignatures", "planted.linker"],
        "remain": ["Visible words remain.", "Inserted words remain.", "A comment remains.",
                   "word/media/image1.png", "mc:Ignorable=\"w14\"", "planted.example",
                   "xmlns:w14=\"http://schemas.microsoft.com/office/word/2010/wordml\""],
        "removed": ["properties", "comment-authors", "change-authors", "people", "revision-ids",
                    "thumbnails", "image-metadata", "template", "application-data", "signatures",
                    "file-links"],
        "kept": ["visible-text", "links", "images"],
    }
    return entries, expect


def xlsx() -> tuple[list[tuple[str, bytes]], dict[str, object]]:
    main = "xl/workbook.xml"
    ns = ('xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
          'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"')
    workbook = XML + (
        f'<workbook {ns} xmlns:mc="http://schemas.openxmlformats.org/markup-compatibility/2006" '
        'xmlns:x15="http://schemas.microsoft.com/office/spreadsheetml/2010/11/main" '
        'mc:Ignorable="x15"><workbookPr defaultThemeVersion="166925"/>'
        '<mc:AlternateContent><mc:Choice Requires="x15"><x15ac:absPath '
        'xmlns:x15ac="http://schemas.microsoft.com/office/spreadsheetml/2010/11/ac" '
        'url="C:\\Users\\planted.saver\\Documents\\"/></mc:Choice></mc:AlternateContent>'
        '<sheets><sheet name="Figures" sheetId="1" r:id="rId1"/></sheets></workbook>')
    sheet = XML + (
        f'<worksheet {ns}><sheetData><row r="1"><c r="A1" t="inlineStr"><is><t>Cell text remains'
        '</t></is></c></row></sheetData><pageSetup paperSize="9" r:id="rId2"/></worksheet>')
    comments = XML + (
        f'<comments {ns}><authors><author>Planted Sheet Author</author></authors><commentList>'
        '<comment ref="A1" authorId="0"><text><t>Sheet comment remains</t></text></comment>'
        '</commentList></comments>')
    persons = XML + (
        '<personList xmlns="http://schemas.microsoft.com/office/spreadsheetml/2018/threadedcomments">'
        '<person displayName="Planted Threaded Person" id="{00000000-0000-0000-0000-000000000001}"'
        ' userId="planted.threaded@example.org" providerId="AD"/></personList>')
    workbook_rels = XML + (
        '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
        '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
        'relationships/worksheet" Target="worksheets/sheet1.xml"/>'
        '<Relationship Id="rId2" Type="http://schemas.microsoft.com/office/2017/10/relationships/'
        'person" Target="persons/person.xml"/></Relationships>')
    sheet_rels = XML + (
        '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
        '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
        'relationships/comments" Target="../comments1.xml"/>'
        '<Relationship Id="rId2" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
        'relationships/printerSettings" Target="../printerSettings/printerSettings1.bin"/>'
        '</Relationships>')
    entries = [
        *common_parts(
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml",
            main,
        ),
        (main, workbook.encode()),
        ("xl/_rels/workbook.xml.rels", workbook_rels.encode()),
        ("xl/worksheets/sheet1.xml", sheet.encode()),
        ("xl/worksheets/_rels/sheet1.xml.rels", sheet_rels.encode()),
        ("xl/comments1.xml", comments.encode()),
        ("xl/persons/person.xml", persons.encode()),
        ("xl/printerSettings/printerSettings1.bin", b"PLANTED-PRINTER\\\\printserver\\planted"),
        # A table's displayName is its name (required): it stays as it is.
        ("xl/tables/table1.xml", (XML + (
            f'<table {ns} id="1" name="FiguresTable" displayName="FiguresTable" ref="A1:A2">'
            '<autoFilter ref="A1:A2"/><tableColumns count="1"><tableColumn id="1" '
            'name="Amount"/></tableColumns></table>')).encode()),
        ("xl/pivotCache/pivotCacheDefinition1.xml", (XML + (
            f'<pivotCacheDefinition {ns} refreshedBy="Planted Refresher" '
            'refreshedDate="45365.6" refreshedDateIso="2024-03-14T15:09:26Z" recordCount="1">'
            '<cacheSource type="worksheet"><worksheetSource ref="A1:A2" sheet="Figures"/>'
            '</cacheSource></pivotCacheDefinition>')).encode()),
        ("xl/connections.xml", (XML + (
            f'<connections {ns}><connection id="1" name="Ledger" type="5" '
            'odcFile="C:\\Users\\planted.odc\\Ledger.odc" refreshedVersion="8"><dbPr '
            'connection="Provider=SQLOLEDB;User ID=planted.dbuser;Data Source=planted-host" '
            'command="ledger"/></connection></connections>')).encode()),
        ("xl/revisions/userNames.xml", (XML + (
            f'<users {ns} count="1"><userInfo guid="{{00000000-0000-0000-0000-000000000004}}" '
            'name="Planted Sharer" id="1" dateTime="2024-03-14T15:09:26Z"/></users>')).encode()),
        ("xl/revisions/revisionHeaders.xml", (XML + (
            f'<headers {ns} guid="{{00000000-0000-0000-0000-000000000005}}"><header '
            'guid="{00000000-0000-0000-0000-000000000006}" dateTime="2024-03-14T15:09:26Z" '
            'maxSheetId="2" userName="Planted Reviser" r:id="rId9"><sheetIdMap count="1">'
            '<sheetId val="1"/></sheetIdMap></header></headers>')).encode()),
    ]
    expect = {
        "gone": [*COMMON_GONE, "Planted Sheet Author", "Planted Threaded Person",
                 "planted.threaded@example.org", "PLANTED-PRINTER", "printerSettings1.bin",
                 'r:id="rId2"', "planted.saver", "absPath", "Planted Refresher", "45365.6",
                 "planted.odc", "planted.dbuser", "planted-host", "Planted Sharer",
                 "Planted Reviser"],
        "remain": ["Cell text remains", "Sheet comment remains", 'paperSize="9"',
                   "xl/persons/person.xml", 'defaultThemeVersion="166925"', "Figures",
                   'displayName="FiguresTable"', 'name="Amount"', "Provider=SQLOLEDB",
                   'name="Ledger"'],
        "removed": ["properties", "comment-authors", "people", "thumbnails", "printer",
                    "file-location", "connections"],
        "kept": ["visible-text"],
    }
    return entries, expect


def pptx() -> tuple[list[tuple[str, bytes]], dict[str, object]]:
    main = "ppt/presentation.xml"
    ns = 'xmlns:p="http://schemas.openxmlformats.org/presentationml/2006/main"'
    presentation = XML + f'<p:presentation {ns}><p:sldIdLst/></p:presentation>'
    authors = XML + (f'<p:cmAuthorLst {ns}><p:cmAuthor id="0" name="Planted Presenter" '
                     'initials="PPX" lastIdx="1" clrIdx="0"/></p:cmAuthorLst>')
    comments = XML + (f'<p:cmLst {ns}><p:cm authorId="0" dt="2024-03-14T15:09:26.000" idx="1">'
                      '<p:pos x="10" y="10"/><p:text>Slide comment remains</p:text></p:cm>'
                      '</p:cmLst>')
    modern = 'xmlns:p188="http://schemas.microsoft.com/office/powerpoint/2018/8/main"'
    modern_authors = XML + (
        f'<p188:authorLst {modern}><p188:author id="{{00000000-0000-0000-0000-000000000002}}" '
        'name="Planted Modern Author" initials="PMA" userId="planted.modern@example.org" '
        'providerId="AD"/></p188:authorLst>')
    modern_comments = XML + (
        f'<p188:cmLst {modern}><p188:cm id="{{00000000-0000-0000-0000-000000000003}}" '
        'authorId="{00000000-0000-0000-0000-000000000002}" created="2024-03-14T15:09:26.123">'
        '<p188:txBody><a:p xmlns:a="http://schemas.openxmlformats.org/drawingml/2006/main">'
        '<a:r><a:t>Modern comment remains</a:t></a:r></a:p></p188:txBody></p188:cm>'
        '</p188:cmLst>')
    entries = [
        *common_parts(
            "application/vnd.openxmlformats-officedocument.presentationml.presentation.main+xml",
            main,
        ),
        (main, presentation.encode()),
        ("ppt/commentAuthors.xml", authors.encode()),
        ("ppt/comments/comment1.xml", comments.encode()),
        ("ppt/authors.xml", modern_authors.encode()),
        ("ppt/comments/modernComment_100_1.xml", modern_comments.encode()),
        ("ppt/vbaProject.bin", b"macro code"),
    ]
    expect = {
        "gone": [*COMMON_GONE, "Planted Presenter", "PPX", "2024-03-14T15:09:26.000",
                 "Planted Modern Author", "PMA", "planted.modern@example.org",
                 "2024-03-14T15:09:26.123"],
        "remain": ["Slide comment remains", "Modern comment remains", "ppt/vbaProject.bin"],
        "removed": ["properties", "comment-authors", "people", "thumbnails"],
        "kept": ["visible-text", "macros"],
    }
    return entries, expect


ODF_NS = ('xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" '
          'xmlns:meta="urn:oasis:names:tc:opendocument:xmlns:meta:1.0" '
          'xmlns:dc="http://purl.org/dc/elements/1.1/" '
          'xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0" '
          'xmlns:config="urn:oasis:names:tc:opendocument:xmlns:config:1.0" '
          'xmlns:officeooo="http://openoffice.org/2009/office" '
          'xmlns:style="urn:oasis:names:tc:opendocument:xmlns:style:1.0"')


def odt() -> tuple[list[tuple[str, bytes]], dict[str, object]]:
    meta = XML + (
        f'<office:document-meta {ODF_NS} office:version="1.3"><office:meta>'
        '<meta:initial-creator>Planted Initial Creator</meta:initial-creator>'
        '<dc:creator>Planted Creator</dc:creator><meta:creation-date>2024-03-14T15:09:26'
        '</meta:creation-date><meta:editing-duration>PT2H17M</meta:editing-duration>'
        '<meta:generator>PLANTED-GENERATOR</meta:generator>'
        '<meta:user-defined meta:name="Department">PLANTED-DEPARTMENT</meta:user-defined>'
        '</office:meta></office:document-meta>')
    content = XML + (
        f'<office:document-content {ODF_NS} office:version="1.3"><office:automatic-styles>'
        '<style:style style:name="P1" style:family="paragraph"><style:text-properties '
        'officeooo:rsid="0012ab34" officeooo:paragraph-rsid="0056cd78"/></style:style>'
        '</office:automatic-styles><office:body><office:text><text:tracked-changes>'
        '<text:changed-region text:id="ct1"><text:insertion><office:change-info>'
        '<dc:creator>Planted Changer</dc:creator><dc:date>2024-03-14T15:09:26</dc:date>'
        '</office:change-info></text:insertion></text:changed-region></text:tracked-changes>'
        '<text:p text:style-name="P1">Visible words remain.<text:a xmlns:xlink="http://www.w3.org/'
        '1999/xlink" xlink:href="file:///home/planted.odflinker/x.odt">A link remains.</text:a>'
        '<text:a xmlns:xlink="http://www.w3.org/1999/xlink" '
        'xlink:href="https://planted.example/page">A web link remains.</text:a>'
        '<office:annotation>'
        '<dc:creator>Planted Commenter</dc:creator><dc:date>2024-03-14T15:09:26</dc:date>'
        '<meta:creator-initials>PCX</meta:creator-initials>'
        '<loext:sender-initials xmlns:loext="urn:org:documentfoundation:names:experimental:'
        'office:xmlns:loext:1.0">PSI</loext:sender-initials><text:p>A comment remains.</text:p>'
        '</office:annotation></text:p></office:text></office:body></office:document-content>')
    settings = XML + (
        f'<office:document-settings {ODF_NS} office:version="1.3"><office:settings>'
        '<config:config-item-set config:name="ooo:configuration-settings">'
        '<config:config-item config:name="PrinterName" config:type="string">PLANTED-PRINTER'
        '</config:config-item><config:config-item config:name="PrinterSetup" '
        'config:type="base64Binary">UExBTlRFRA==</config:config-item>'
        '<config:config-item config:name="AddParaTableSpacing" config:type="boolean">true'
        '</config:config-item><config:config-item config:name="CurrentDatabaseDataSource" '
        'config:type="string">file:///home/planted.merger/Addresses.odb</config:config-item>'
        '</config:config-item-set></office:settings></office:document-settings>')
    manifest = XML + (
        '<manifest:manifest xmlns:manifest="urn:oasis:names:tc:opendocument:xmlns:manifest:1.0" '
        'manifest:version="1.3"><manifest:file-entry manifest:full-path="/" '
        'manifest:media-type="application/vnd.oasis.opendocument.text"/>'
        '<manifest:file-entry manifest:full-path="content.xml" manifest:media-type="text/xml"/>'
        '<manifest:file-entry manifest:full-path="meta.xml" manifest:media-type="text/xml"/>'
        '<manifest:file-entry manifest:full-path="settings.xml" manifest:media-type="text/xml"/>'
        '<manifest:file-entry manifest:full-path="Thumbnails/thumbnail.png" '
        'manifest:media-type="image/png"/>'
        '<manifest:file-entry manifest:full-path="Pictures/photo.png" '
        'manifest:media-type="image/png"/></manifest:manifest>')
    entries = [
        ("mimetype", b"application/vnd.oasis.opendocument.text"),
        ("content.xml", content.encode()), ("meta.xml", meta.encode()),
        ("settings.xml", settings.encode()),
        ("Thumbnails/thumbnail.png", png_with_text(b"PLANTED-THUMBNAIL")),
        ("Pictures/photo.png", png_with_text(b"PLANTED-IMAGE-TEXT")),
        ("Versions/Version1", b"PLANTED-EARLIER-VERSION"),
        ("META-INF/manifest.xml", manifest.encode()),
        ("META-INF/documentsignatures.xml", (XML + (
            '<document-signatures xmlns="urn:oasis:names:tc:opendocument:xmlns:digitalsignature:'
            '1.0"><Signature><Object>PLANTED-ODF-SIGNER</Object></Signature>'
            '</document-signatures>')).encode())]
    expect = {
        "gone": ["Planted Initial Creator", "Planted Creator", "PT2H17M", "PLANTED-GENERATOR",
                 "PLANTED-DEPARTMENT", "Planted Changer", "Planted Commenter", "PCX",
                 "PLANTED-PRINTER", "UExBTlRFRA==", "PLANTED-THUMBNAIL", "Thumbnails/",
                 "PLANTED-EARLIER-VERSION", "0012ab34", "0056cd78", "2024-03-14T15:09:26",
                 "PLANTED-IMAGE-TEXT", "PSI", "planted.merger", "PLANTED-ODF-SIGNER",
                 "planted.odflinker"],
        "remain": ["Visible words remain.", "A comment remains.", "AddParaTableSpacing",
                   "A link remains.", "planted.example",
                   "Pictures/photo.png", "application/vnd.oasis.opendocument.text"],
        "removed": ["properties", "comment-authors", "change-authors", "revision-ids",
                    "thumbnails", "printer", "earlier-versions", "image-metadata",
                    "connections", "signatures", "file-links"],
        "kept": ["visible-text", "links"],
    }
    return entries, expect


def ods() -> tuple[list[tuple[str, bytes]], dict[str, object]]:
    """A spreadsheet: the same cleaning as a text document, a cell's comment in a table."""
    return odf_variant("spreadsheet", (
        '<office:spreadsheet><table:table table:name="Figures"><table:table-row>'
        '<table:table-cell office:value-type="string"><office:annotation>'
        '<dc:creator>Planted Commenter</dc:creator><dc:date>2024-03-14T15:09:26</dc:date>'
        '<text:p>A comment remains.</text:p></office:annotation>'
        '<text:p>Visible words remain.</text:p></table:table-cell></table:table-row>'
        '</table:table></office:spreadsheet>'))


def odp() -> tuple[list[tuple[str, bytes]], dict[str, object]]:
    """A presentation: a slide's comment."""
    return odf_variant("presentation", (
        '<office:presentation><draw:page draw:name="Slide 1"><officeooo:annotation>'
        '<dc:creator>Planted Commenter</dc:creator><dc:date>2024-03-14T15:09:26</dc:date>'
        '<text:p>A comment remains.</text:p></officeooo:annotation><draw:frame><draw:text-box>'
        '<text:p>Visible words remain.</text:p></draw:text-box></draw:frame></draw:page>'
        '</office:presentation>'))


def odf_variant(kind: str, body: str) -> tuple[list[tuple[str, bytes]], dict[str, object]]:
    entries, expect = odt()
    namespaces = (f'{ODF_NS} xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0" '
                  'xmlns:draw="urn:oasis:names:tc:opendocument:xmlns:drawing:1.0"')
    content = XML + (f'<office:document-content {namespaces} office:version="1.3">'
                     f'<office:body>{body}</office:body></office:document-content>')
    mime = f"application/vnd.oasis.opendocument.{kind}".encode()
    replaced = {"mimetype": mime, "content.xml": content.encode(),
                "META-INF/manifest.xml": dict(entries)["META-INF/manifest.xml"].replace(
                    b"opendocument.text", b"opendocument." + kind.encode())}
    entries = [(name, replaced.get(name, data)) for name, data in entries]
    gone = [g for g in expect["gone"]  # type: ignore[attr-defined]
            if g not in ("Planted Changer", "0012ab34", "0056cd78", "PCX", "PSI",
                         "planted.odflinker")]
    removed = [r for r in expect["removed"]  # type: ignore[attr-defined]
               if r not in ("change-authors", "revision-ids", "file-links")]
    remain = [r if r != "application/vnd.oasis.opendocument.text" else mime.decode()
              for r in expect["remain"]  # type: ignore[attr-defined]
              if r not in ("A link remains.", "planted.example")]
    return entries, {**expect, "gone": gone, "removed": removed, "remain": remain,
                     "kept": ["visible-text"]}


def pdf_objects(objects: dict[int, bytes], root: int, info: int | None, previous: int | None,
                start: int, size: int) -> tuple[bytes, int]:
    """A PDF body (or an incremental update starting at ``start``) with its xref and trailer."""
    out = bytearray()
    offsets = {}
    for number, body in objects.items():
        offsets[number] = start + len(out)
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref_at = start + len(out)
    out += b"xref\n"
    for number in sorted(offsets):
        out += b"%d 1\n%010d 00000 n \n" % (number, offsets[number])
    trailer = b"<< /Size %d /Root %d 0 R" % (size, root)
    if info is not None:
        trailer += b" /Info %d 0 R" % info
    if previous is not None:
        trailer += b" /Prev %d" % previous
    trailer += b" /ID [<504c414e5445442d4944> <504c414e5445442d4944>] >>"
    out += b"trailer\n" + trailer + b"\nstartxref\n%d\n%%%%EOF\n" % xref_at
    return bytes(out), xref_at


def stream(dictionary: bytes, data: bytes) -> bytes:
    return b"<< " + dictionary + b" /Length %d >>\nstream\n" % len(data) + data + b"\nendstream"


def pdf() -> tuple[bytes, dict[str, object]]:
    head = b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n"
    xmp = (b'<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/'
           b'22-rdf-syntax-ns#"><rdf:Description xmlns:dc="http://purl.org/dc/elements/1.1/">'
           b"<dc:creator>Planted XMP Creator</dc:creator></rdf:Description></rdf:RDF>"
           b"</x:xmpmeta>")
    first_page = b"BT /F1 12 Tf 72 720 Td (PLANTED-EARLIER-TEXT) Tj ET"
    page = b"BT /F1 12 Tf 72 720 Td (Visible words remain.) Tj ET"
    original = {
        1: b"<< /Type /Catalog /Pages 2 0 R /Metadata 9 0 R /OpenAction 7 0 R "
           b"/Names << /EmbeddedFiles << /Names [(planted-attachment.txt) 8 0 R] >> "
           b"/JavaScript << /Names [(PlantedScript) 7 0 R] >> >> "
           b"/AA << /WC << /S /JavaScript /JS (app.alert\\('PLANTED-CLOSE-SCRIPT'\\)) >> >> "
           b"/AF [12 0 R] /Collection << /View /D >> /Threads [18 0 R] "
           b"/AcroForm << /Fields [14 0 R 16 0 R] /XFA 17 0 R >> >>",
        2: b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        3: b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R "
           b"/Resources << /Font << /F1 5 0 R >> /XObject << /Im1 19 0 R >> >> "
           b"/Annots [10 0 R 14 0 R 16 0 R "
           # Annotations written in the array: a note, and a link whose action chains to a
           # script.
           b"<< /Type /Annot /Subtype /Text /Rect [10 10 20 20] /T (Planted Direct Annotator) "
           b"/Contents (Direct note remains) >> "
           b"<< /Type /Annot /Subtype /Link /Rect [30 30 40 40] /A << /S /GoTo /D [3 0 R /Fit] "
           b"/Next << /S /JavaScript /JS (app.alert\\('PLANTED-NEXT-SCRIPT'\\)) >> >> >>] "
           b"/AF [12 0 R] /LastModified (D:20240314150926Z) "
           b"/PieceInfo << /PlantedApp << /Private (PLANTED-PIECE-INFO) >> >> >>",
        4: stream(b"", first_page),
        5: b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
        6: b"<< /Author (Planted Author) /Creator (PLANTED-CREATOR-APP) "
           b"/Producer (PLANTED-PRODUCER) /CreationDate (D:20240314150926Z) "
           b"/Company (Planted Company) >>",
        7: b"<< /S /JavaScript /JS (app.alert\\('PLANTED-OPEN-SCRIPT'\\)) >>",
        8: b"<< /Type /Filespec /F (planted-attachment.txt) /EF << /F 11 0 R >> >>",
        9: stream(b"/Type /Metadata /Subtype /XML", xmp),
        10: b"<< /Type /Annot /Subtype /Text /Rect [100 100 120 120] "
            b"/T (Planted Annotator) /M (D:20240314150926Z) /CreationDate (D:20240314150926Z) "
            b"/Contents (Note text remains) >>",
        11: stream(b"/Type /EmbeddedFile", b"PLANTED-EMBEDDED-CONTENT"),
        # An associated file (PDF/A-3, Factur-X), reachable only from /AF.
        12: b"<< /Type /Filespec /F (planted-associated.xml) /AFRelationship /Alternative "
            b"/EF << /F 13 0 R >> >>",
        13: stream(b"/Type /EmbeddedFile", b"PLANTED-ASSOCIATED-CONTENT"),
        # A form field's name is no author: it stays.
        14: b"<< /Type /Annot /Subtype /Widget /FT /Tx /T (PlantedField) /Rect [50 50 90 60] "
            b"/P 3 0 R /M (D:20240314150926Z) >>",
        15: b"<< /Type /Sig /Filter /Adobe.PPKLite /SubFilter /adbe.pkcs7.detached "
            b"/Name (Planted Signer) /M (D:20240314150926Z) "
            b"/ContactInfo (planted.signer@example.org) /Location (PLANTED-LOCATION) "
            b"/Prop_Build << /App << /Name /PLANTED-SIGNING-APP >> >> "
            b"/ByteRange [0 0 0 0] /Contents <00> >>",
        16: b"<< /Type /Annot /Subtype /Widget /FT /Sig /T (SignatureField) /V 15 0 R "
            b"/Rect [0 0 0 0] /P 3 0 R >>",
        17: stream(b"", b"<xdp:xdp>PLANTED-XFA</xdp:xdp>"),
        18: b"<< /Type /Thread /I << /Title (PLANTED-THREAD-TITLE) "
            b"/Author (Planted Thread Author) >> >>",
        19: stream(b"/Type /XObject /Subtype /Image /Width 8 /Height 8 /ColorSpace /DeviceGray "
                   b"/BitsPerComponent 8 /Filter [/DCTDecode]", handmade_jpeg()),
    }
    body, xref_at = pdf_objects(original, 1, 6, None, len(head), 20)
    # An incremental update replacing the page's text: the earlier text stays in the file.
    update, _ = pdf_objects({4: stream(b"", page)}, 1, 6, xref_at, len(head) + len(body), 20)
    data = head + body + update
    expect = {
        "gone": ["Planted Author", "PLANTED-CREATOR-APP", "PLANTED-PRODUCER", "Planted Company",
                 "D:20240314150926Z", "Planted XMP Creator", "planted-attachment.txt",
                 "PLANTED-EMBEDDED-CONTENT", "PLANTED-OPEN-SCRIPT", "PLANTED-CLOSE-SCRIPT",
                 "PlantedScript", "Planted Annotator", "PLANTED-PIECE-INFO",
                 "PLANTED-EARLIER-TEXT", "504c414e5445442d4944", "PLANTED-ID",
                 "planted-associated.xml", "PLANTED-ASSOCIATED-CONTENT", "Collection",
                 "Planted Direct Annotator", "PLANTED-NEXT-SCRIPT", "Planted Signer",
                 "planted.signer@example.org", "PLANTED-LOCATION", "PLANTED-SIGNING-APP",
                 "PLANTED-XFA", "PLANTED-THREAD-TITLE", "Planted Thread Author",
                 GPS_MARK.decode(), TEXT_MARK.decode(), "Exif"],
        "remain": ["Visible words remain.", "Note text remains", "Helvetica", "PlantedField",
                   "SignatureField", "Direct note remains", "Adobe.PPKLite", "/DCTDecode"],
        "removed": ["properties", "xmp", "embedded-files", "scripts", "application-data",
                    "comment-authors", "earlier-versions", "signatures", "image-metadata"],
        "kept": ["visible-text"],
    }
    return data, expect


def pdf_with_object_streams(data: bytes, expect: dict[str, object]
                            ) -> tuple[bytes, dict[str, object]]:
    """The same document as most writers save it now: objects packed in compressed object
    streams, a cross-reference stream, one revision (so no earlier text, and a new identifier)."""
    with pikepdf.open(io.BytesIO(data)) as pdf:
        out = io.BytesIO()
        pdf.save(out, object_stream_mode=pikepdf.ObjectStreamMode.generate,
                 compress_streams=True, deterministic_id=True)
    single = {"PLANTED-EARLIER-TEXT", "504c414e5445442d4944", "PLANTED-ID"}
    gone = [g for g in expect["gone"] if g not in single]  # type: ignore[attr-defined]
    removed = [r for r in expect["removed"] if r != "earlier-versions"]  # type: ignore[attr-defined]
    return out.getvalue(), {**expect, "gone": gone, "removed": removed}


def images() -> list[tuple[str, bytes, dict[str, object]]]:
    """The image cleaner's vectors: it reports only whether it removed anything."""
    png = png_with_text(TEXT_MARK)
    expect = {"remain": [], "removed": ["image-metadata"], "kept": []}
    return [("planted.jpg", handmade_jpeg(),
             {**expect, "gone": [GPS_MARK.decode(), TEXT_MARK.decode(), "Exif", "trailer"]}),
            ("planted.png", png, {**expect, "gone": [TEXT_MARK.decode(), "tEXt"]})]


def main() -> None:
    vectors = []
    for name, build in (("planted.docx", docx), ("planted.xlsx", xlsx), ("planted.pptx", pptx),
                        ("planted.odt", odt), ("planted.ods", ods), ("planted.odp", odp)):
        entries, expect = build()
        write_zip(HERE / name, entries)
        vectors.append({"file": name, **expect})
    data, expect = pdf()
    (HERE / "planted.pdf").write_bytes(data)
    packed, packed_expect = pdf_with_object_streams(data, expect)
    (HERE / "planted-object-streams.pdf").write_bytes(packed)
    vectors[:0] = [{"file": "planted.pdf", **expect},
                   {"file": "planted-object-streams.pdf", **packed_expect}]
    for name, image, image_expect in images():
        (HERE / name).write_bytes(image)
        vectors.append({"file": name, **image_expect})
    description = ("Each input has planted metadata. After cleaning (candor_reporter/documents.py,"
                   " app/browser/documents.js; images: the metadata.py and metadata.js "
                   "strippers, whose report is image-metadata alone), no string of 'gone' may "
                   "appear in the file, its "
                   "decompressed zip entries or PDF streams, or its entry names; every string of "
                   "'remain' must; the report's removed keys are 'removed' and its kept keys "
                   "'kept'. Made by make_vectors.py.")
    (HERE / "vectors.json").write_text(
        json.dumps({"description": description, "vectors": vectors}, indent=1) + "\n",
        encoding="ascii")


if __name__ == "__main__":
    main()
