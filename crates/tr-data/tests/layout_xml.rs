//! Hostile and broken XML through the public reader: entity expansion,
//! DTD subsets, malformed documents, bad encodings. Every case is a named
//! error naming the file; nothing is ever expanded or fetched.

mod layout_common;

use layout_common::write;
use tr_data::layout::{read_page, LayoutError, ReadOptions};
use tr_data::Error;

fn kind(doc: &[u8]) -> (LayoutError, String) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("hostile.xml");
    std::fs::write(&path, doc).unwrap();
    match read_page(&path, &ReadOptions::default()) {
        Err(e @ Error::Layout { .. }) => {
            let msg = e.to_string();
            assert!(msg.contains("hostile.xml"), "{msg}");
            assert!(!msg.contains('\n'), "multi-line: {msg}");
            let Error::Layout { kind, .. } = e else {
                unreachable!()
            };
            (*kind, msg)
        }
        other => panic!("expected a layout error, got {other:?}"),
    }
}

const ALTO_HEAD: &str = r#"<alto xmlns="http://www.loc.gov/standards/alto/ns-v4#"><Layout><Page WIDTH="10" HEIGHT="10"><PrintSpace><TextBlock><TextLine HPOS="0" VPOS="0" WIDTH="5" HEIGHT="5"><String CONTENT=""#;
const ALTO_TAIL: &str = r#""/></TextLine></TextBlock></PrintSpace></Page></Layout></alto>"#;

#[test]
fn an_entity_declared_in_an_internal_subset_is_refused_not_expanded() {
    let doc = format!(
        "<?xml version=\"1.0\"?>\n<!DOCTYPE alto [\n  <!ENTITY secret SYSTEM \"file:///etc/passwd\">\n  <!ENTITY name \"EXPANDED\">\n]>\n{ALTO_HEAD}&name;&secret;{ALTO_TAIL}"
    );
    let (k, msg) = kind(doc.as_bytes());
    assert!(matches!(k, LayoutError::DoctypeSubset { line: 2 }), "{msg}");
    assert!(
        msg.contains("internal DTD subset") && !msg.contains("EXPANDED"),
        "{msg}"
    );
}

#[test]
fn billion_laughs_is_refused_at_the_doctype() {
    let mut doc =
        String::from("<?xml version=\"1.0\"?>\n<!DOCTYPE lolz [\n <!ENTITY lol \"lol\">\n");
    for i in 1..10 {
        let prev = if i == 1 {
            "lol".to_string()
        } else {
            format!("lol{}", i - 1)
        };
        doc += &format!(" <!ENTITY lol{i} \"{}\">\n", format!("&{prev};").repeat(10));
    }
    doc += "]>\n<lolz>&lol9;</lolz>";
    let (k, _) = kind(doc.as_bytes());
    assert!(matches!(k, LayoutError::DoctypeSubset { .. }));
}

#[test]
fn an_undeclared_entity_reference_is_a_named_error() {
    let doc = format!("{ALTO_HEAD}&nbsp;{ALTO_TAIL}");
    let (k, msg) = kind(doc.as_bytes());
    assert!(
        matches!(&k, LayoutError::UnknownEntity { name, .. } if name == "nbsp"),
        "{msg}"
    );
    // Also in element text.
    let page = r#"<PcGts><Page imageFilename="p.png" imageWidth="9" imageHeight="9"><TextRegion id="r"><TextLine id="l"><Coords points="0,0 5,0 5,5"/><TextEquiv><Unicode>&custom;</Unicode></TextEquiv></TextLine></TextRegion></Page></PcGts>"#;
    let (k, _) = kind(page.as_bytes());
    assert!(matches!(&k, LayoutError::UnknownEntity { name, line: 1 } if name == "custom"));
}

#[test]
fn an_external_dtd_is_never_fetched() {
    let dir = tempfile::tempdir().unwrap();
    let doc = format!(
        "<!DOCTYPE alto SYSTEM \"http://unreachable.invalid/alto.dtd\">\n{ALTO_HEAD}ok &amp; fine{ALTO_TAIL}"
    );
    let path = write(dir.path(), "p.xml", &doc);
    let page = read_page(&path, &ReadOptions::default()).unwrap();
    assert_eq!(page.lines().next().unwrap().text, "ok & fine");
}

#[test]
fn malformed_documents() {
    let cases: [&[u8]; 6] = [
        b"<alto><Layout></alto>",
        b"<alto><Layout>",
        b"<alto><Description/></alto><alto/>",
        b"",
        b"<alto a=\"1\" a=\"2\"/>",
        b"<alto><Layout><Page WIDTH=\"1\" HEIGHT=\"1\"><unclosed attr=\"x></Page></Layout></alto>",
    ];
    for (i, doc) in cases.iter().enumerate() {
        let (k, msg) = kind(doc);
        assert!(
            matches!(k, LayoutError::Malformed { .. }),
            "case {i}: {msg}"
        );
    }
}

#[test]
fn text_that_is_not_utf8() {
    // Latin-1 bytes in a file that declares nothing (hence UTF-8).
    let mut doc = ALTO_HEAD.as_bytes().to_vec();
    doc.extend(b"caf\xe9");
    doc.extend(ALTO_TAIL.as_bytes());
    let (k, msg) = kind(&doc);
    assert!(matches!(k, LayoutError::NotUtf8 { line: 1, .. }), "{msg}");
    // UTF-16 is refused by name; a declared Latin-1 file is decoded.
    let (k, _) = kind(b"\xff\xfe<\x00a\x00/\x00>\x00");
    assert!(matches!(k, LayoutError::UnsupportedEncoding { .. }));
    let dir = tempfile::tempdir().unwrap();
    let mut latin1 = b"<?xml version=\"1.0\" encoding=\"ISO-8859-1\"?>".to_vec();
    latin1.extend(&doc);
    let path = dir.path().join("latin1.xml");
    std::fs::write(&path, latin1).unwrap();
    let page = read_page(&path, &ReadOptions::default()).unwrap();
    assert_eq!(page.lines().next().unwrap().text, "café");
}

#[test]
fn missing_file_is_an_io_error() {
    let err = read_page(
        std::path::Path::new("/nonexistent/p.xml"),
        &ReadOptions::default(),
    )
    .unwrap_err();
    assert!(matches!(err, Error::Io { .. }), "{err}");
}
