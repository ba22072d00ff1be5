//! `download iam --from`: a user's own IAM copy (an `iamdb.zip` like the
//! course's, any zip with `xml/` + `forms/`, an extracted folder) lands in
//! `downloaded/iam/iamdb/` where tr-data's IAM reader finds form and image;
//! bad copies are named errors before anything is written.

mod common;

use std::path::{Path, PathBuf};

use common::{metadata, snapshot, zip_bytes};
use tr_data::layout::read_iam_form;
use xtask::download::install::{install, Request};
use xtask::download::metadata::{builtin, Metadata};
use xtask::download::report::Action;
use xtask::download::verify::sha256_bytes;
use xtask::download::Error;

/// A small IAM form XML: one prompt line, one handwritten line.
fn form_xml(id: &str) -> String {
    format!(
        "<?xml version=\"1.0\" encoding=\"ISO-8859-1\"?>\n\
         <form height=\"400\" id=\"{id}\" writer-id=\"000\" width=\"300\">\n\
         <machine-printed-part><machine-print-line text=\"A MOVE to stop\"/></machine-printed-part>\n\
         <handwritten-part>\n\
         <line id=\"{id}-00\" segmentation=\"ok\" text=\"A MOVE to stop\">\n\
         <word id=\"{id}-00-00\" text=\"A\"><cmp x=\"40\" y=\"200\" width=\"100\" height=\"50\"/></word>\n\
         </line>\n</handwritten-part>\n</form>\n"
    )
}

/// Stand-in image bytes (the importer never decodes images).
const IMAGE: &[u8] = b"\x89PNG not really";

fn iam_meta() -> Metadata {
    metadata("iam", builtin("iam").unwrap())
}

fn request<'a>(meta: &'a Metadata, root: &Path, from: &Path) -> Request<'a> {
    Request {
        meta,
        root: root.to_path_buf(),
        from: Some(from.to_path_buf()),
        files: Vec::new(),
        force: false,
    }
}

fn tree(root: &Path) -> PathBuf {
    root.join("downloaded/iam/iamdb")
}

/// The imported form reads, and its image is the imported one.
fn assert_readable(root: &Path, id: &str, ext: &str) {
    let form = read_iam_form(&tree(root).join(format!("xml/{id}.xml"))).unwrap();
    assert_eq!(form.id, id);
    assert_eq!(form.page.lines().count(), 1);
    let image = form.page.image.unwrap();
    assert_eq!(image, tree(root).join(format!("forms/{id}.{ext}")));
    assert_eq!(std::fs::read(image).unwrap(), IMAGE);
}

fn course_like_zip() -> Vec<u8> {
    let (a, b) = (form_xml("a01-000u"), form_xml("b02-010"));
    zip_bytes(&[
        ("iamdb/xml/a01-000u.xml", a.as_bytes()),
        ("iamdb/xml/b02-010.xml", b.as_bytes()),
        ("iamdb/forms/a01-000u.jpg", IMAGE),
        ("iamdb/forms/b02-010.jpg", IMAGE),
        ("iamdb/task/testset.txt", b"b02-010-00\n"),
        ("__MACOSX/iamdb/xml/._a01-000u.xml", b"junk"),
    ])
}

#[test]
fn an_own_iamdb_zip_is_extracted_where_the_reader_looks() {
    let src = tempfile::tempdir().unwrap();
    let zip = src.path().join("iamdb.zip");
    std::fs::write(&zip, course_like_zip()).unwrap();
    let root = tempfile::tempdir().unwrap();
    let meta = iam_meta();
    let report = install(&request(&meta, root.path(), &zip)).unwrap();
    assert!(report.files.is_empty(), "the own archive is not kept");
    let files = &report.extracted[0].files;
    assert!(
        files.contains(&"iamdb/xml/a01-000u.xml".to_string()),
        "{files:?}"
    );
    assert!(
        files.contains(&"iamdb/task/testset.txt".to_string()),
        "{files:?}"
    );
    assert_eq!(files.len(), 5, "{files:?}");
    assert_readable(root.path(), "a01-000u", "jpg");
    assert_readable(root.path(), "b02-010", "jpg");
    assert!(!root.path().join("downloaded/iam/iamdb.zip").exists());
    assert!(!tree(root.path()).join("xml/._a01-000u.xml").exists());
}

#[test]
fn a_zip_with_the_folders_at_the_top_and_any_name_works() {
    let src = tempfile::tempdir().unwrap();
    let zip = src.path().join("my-iam.zip");
    let x = form_xml("c03-000a");
    std::fs::write(
        &zip,
        zip_bytes(&[
            ("xml/c03-000a.xml", x.as_bytes()),
            ("forms/c03-000a.png", IMAGE),
        ]),
    )
    .unwrap();
    let root = tempfile::tempdir().unwrap();
    let meta = iam_meta();
    install(&request(&meta, root.path(), &zip)).unwrap();
    assert_readable(root.path(), "c03-000a", "png");
}

#[test]
fn an_extracted_folder_is_linked_or_copied_and_left_alone() {
    let src = tempfile::tempdir().unwrap();
    // IAM's own archives extracted under iamdb/: xml/, formsA-D/, formsE-H/.
    for (rel, bytes) in [
        ("iamdb/xml/a01-000u.xml", form_xml("a01-000u").into_bytes()),
        ("iamdb/xml/e04-030.xml", form_xml("e04-030").into_bytes()),
        ("iamdb/formsA-D/a01-000u.png", IMAGE.to_vec()),
        ("iamdb/formsE-H/e04-030.png", IMAGE.to_vec()),
        ("iamdb/ascii/lines.txt", b"# lines".to_vec()),
    ] {
        let p = src.path().join(rel);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, bytes).unwrap();
    }
    let before = snapshot(src.path());
    let root = tempfile::tempdir().unwrap();
    let meta = iam_meta();
    let report = install(&request(&meta, root.path(), src.path())).unwrap();
    assert_eq!(snapshot(src.path()), before, "the source must not change");
    assert_readable(root.path(), "a01-000u", "png");
    assert_readable(root.path(), "e04-030", "png");
    assert_eq!(report.extracted[0].files.len(), 4);
    // Importing the same folder again is fine (files already linked stay).
    install(&request(&meta, root.path(), src.path())).unwrap();
    assert_readable(root.path(), "e04-030", "png");
}

#[test]
fn a_new_copy_replaces_the_old_one_entirely() {
    let src = tempfile::tempdir().unwrap();
    let zip = src.path().join("iamdb.zip");
    std::fs::write(&zip, course_like_zip()).unwrap();
    let root = tempfile::tempdir().unwrap();
    let meta = iam_meta();
    install(&request(&meta, root.path(), &zip)).unwrap();
    let other = src.path().join("other");
    for (rel, bytes) in [
        ("xml/d01-001.xml", form_xml("d01-001").into_bytes()),
        ("forms/d01-001.jpg", IMAGE.to_vec()),
    ] {
        let p = other.join(rel);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, bytes).unwrap();
    }
    install(&request(&meta, root.path(), &other)).unwrap();
    assert_readable(root.path(), "d01-001", "jpg");
    let xml: Vec<String> = common::listing(&tree(root.path()).join("xml"));
    assert_eq!(
        xml,
        ["d01-001.xml"],
        "stale forms of the first copy are gone"
    );
    assert_eq!(
        common::listing(&tree(root.path()).join("forms")),
        ["d01-001.jpg"]
    );
}

#[test]
fn the_courses_zip_keeps_the_ordinary_verified_import() {
    let bytes = course_like_zip();
    let meta = metadata(
        "iam",
        &format!(
            "name = \"iam\"\ndescription = \"d\"\nlicense = \"l\"\n[[file]]\nname = \"iamdb.zip\"\n\
             sha256 = \"{}\"\nextract = {{ members = [\"*\"] }}\n",
            sha256_bytes(&bytes)
        ),
    );
    let src = tempfile::tempdir().unwrap();
    std::fs::write(src.path().join("iamdb.zip"), &bytes).unwrap();
    let root = tempfile::tempdir().unwrap();
    // The folder holding the archive, as `--from DIR` has always accepted.
    let report = install(&request(&meta, root.path(), src.path())).unwrap();
    assert_eq!(report.files.len(), 1);
    assert!(matches!(report.files[0].action, Action::Imported { .. }));
    assert!(root.path().join("downloaded/iam/iamdb.zip").is_file());
    assert!(root
        .path()
        .join("downloaded/iam/iamdb.zip.extracted.toml")
        .is_file());
    assert_readable(root.path(), "a01-000u", "jpg");
}

fn import_error(from: &Path) -> String {
    let root = tempfile::tempdir().unwrap();
    let meta = iam_meta();
    let err = install(&request(&meta, root.path(), from)).unwrap_err();
    assert!(matches!(err, Error::IamCopy { .. }), "{err:?}");
    assert!(
        !tree(root.path()).exists(),
        "nothing may be written for a bad copy"
    );
    err.to_string()
}

#[test]
fn bad_copies_are_named_errors_and_write_nothing() {
    let src = tempfile::tempdir().unwrap();
    let write_zip = |name: &str, members: &[(&str, &[u8])]| {
        let p = src.path().join(name);
        std::fs::write(&p, zip_bytes(members)).unwrap();
        p
    };
    let a = form_xml("a01-000u");

    let no_xml = write_zip("iamdb.zip", &[("iamdb/forms/a01-000u.jpg", IMAGE)]);
    let msg = import_error(&no_xml);
    assert!(
        msg.starts_with(&format!("{}: no xml/ folder", no_xml.display())),
        "{msg}"
    );
    assert!(
        msg.contains("expected xml/<form id>.xml and forms/<form id>.png|jpg"),
        "{msg}"
    );

    let no_image = write_zip(
        "lonely.zip",
        &[
            ("iamdb/xml/a01-000u.xml", a.as_bytes()),
            ("iamdb/xml/b02-010.xml", form_xml("b02-010").as_bytes()),
            ("iamdb/forms/a01-000u.jpg", IMAGE),
        ],
    );
    let msg = import_error(&no_image);
    assert!(
        msg.contains(
            "iamdb/xml/b02-010.xml has no form image: expected iamdb/forms/b02-010.png|jpg"
        ),
        "{msg}"
    );

    let full = course_like_zip();
    let truncated = src.path().join("truncated.zip");
    std::fs::write(&truncated, &full[..full.len() / 2]).unwrap();
    let msg = import_error(&truncated);
    assert!(
        msg.starts_with(&format!(
            "{}: not a readable zip archive",
            truncated.display()
        )) && msg.contains("truncated"),
        "{msg}"
    );

    let alto = write_zip(
        "alto.zip",
        &[
            ("xml/a01-000u.xml", b"<alto><Layout/></alto>"),
            ("forms/a01-000u.png", IMAGE),
        ],
    );
    let msg = import_error(&alto);
    assert!(
        msg.contains("xml/a01-000u.xml: root element <alto>, expected <form>"),
        "{msg}"
    );

    let wrong_id = write_zip(
        "wrong.zip",
        &[
            ("xml/a01-000u.xml", form_xml("z09-999").as_bytes()),
            ("forms/a01-000u.png", IMAGE),
        ],
    );
    let msg = import_error(&wrong_id);
    assert!(msg.contains("describes form \"z09-999\""), "{msg}");
}

#[test]
fn bad_folders_are_named_errors() {
    let src = tempfile::tempdir().unwrap();
    std::fs::write(src.path().join("xml.tgz"), b"gz").unwrap();
    std::fs::write(src.path().join("formsA-D.tgz"), b"gz").unwrap();
    let msg = import_error(src.path());
    assert!(
        msg.contains("no xml/ folder") && msg.contains("must be extracted first"),
        "{msg}"
    );

    let missing = tempfile::tempdir().unwrap();
    let xml = missing.path().join("xml/a01-000u.xml");
    std::fs::create_dir_all(xml.parent().unwrap()).unwrap();
    std::fs::write(&xml, form_xml("a01-000u")).unwrap();
    std::fs::create_dir_all(missing.path().join("forms")).unwrap();
    std::fs::write(missing.path().join("forms/other.png"), IMAGE).unwrap();
    let msg = import_error(missing.path());
    assert!(
        msg.contains("xml/a01-000u.xml has no form image: expected forms/a01-000u.png|jpg"),
        "{msg}"
    );
}
