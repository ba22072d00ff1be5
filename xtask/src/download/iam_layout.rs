//! Recognising an IAM copy from the relative paths it holds (zip member
//! names or files under a folder), and where each file goes.
//!
//! A copy is `<prefix>xml/<form id>.xml` plus `<prefix>forms/<form id>.<ext>`
//! (`ext` one of `tr_data::layout::IMAGE_EXTENSIONS`, any case),
//! optionally `<prefix>task/*` (the split lists). `<prefix>` is empty (the
//! folders at the top), `iamdb/` (the course's `iamdb.zip`) or anything else,
//! but there must be exactly one `xml/` folder. Images may also sit in folders
//! named `forms*` beside `xml/` (IAM's `formsA-D/`, `formsE-H/`, `formsI-Z/`
//! as its `forms*.tgz` archives extract). Hidden entries (`.DS_Store`,
//! `._x`) and `__MACOSX/` are ignored.
//!
//! Output paths are built from the folder kind and the file name alone
//! (`xml/<id>.xml`, `forms/<id>.<ext>`, `task/<name>`), so nothing in an
//! archive can write outside the destination.

use std::collections::BTreeMap;

use tr_data::layout::IMAGE_EXTENSIONS;

/// Where the folders of an imported copy go, below `downloaded/iam/`
/// (the course's tree, which `tr-data`'s IAM form reader reads).
pub const TARGET: &str = "iamdb";

/// The files of one IAM copy, keyed by source path.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IamLayout {
    /// The prefix before `xml/`, e.g. `""` or `"iamdb/"`.
    pub prefix: String,
    /// Form id → source path of its XML.
    pub xml: BTreeMap<String, String>,
    /// Form id → source path of its image.
    pub forms: BTreeMap<String, String>,
    /// Source paths under `task/`.
    pub task: Vec<String>,
    /// Images of the same form found twice (e.g. in `forms/` and `formsA-D/`); the first is kept.
    pub duplicates: usize,
    /// Images without an XML (imported anyway; the reader ignores them).
    pub orphans: usize,
}

impl IamLayout {
    /// Finds the copy among `names` (relative, `/`-separated paths of files);
    /// the error says what is missing, in a sentence that names expectations.
    pub fn find<'a>(names: impl IntoIterator<Item = &'a str>) -> Result<Self, String> {
        let mut xml: BTreeMap<String, BTreeMap<String, String>> = BTreeMap::new();
        let mut forms: BTreeMap<String, BTreeMap<String, String>> = BTreeMap::new();
        let mut task: BTreeMap<String, Vec<String>> = BTreeMap::new();
        let mut duplicates: BTreeMap<String, usize> = BTreeMap::new();
        let mut top: Vec<String> = Vec::new();
        for name in names {
            let parts: Vec<&str> = name.split('/').filter(|p| !p.is_empty()).collect();
            if parts.iter().any(|p| p.starts_with('.') || *p == "__MACOSX") {
                continue;
            }
            if let Some(first) = parts.first() {
                if !top.iter().any(|t| t == first) {
                    top.push((*first).to_string());
                }
            }
            let [dirs @ .., folder, file] = parts.as_slice() else {
                continue;
            };
            let prefix: String = dirs.iter().map(|d| format!("{d}/")).collect();
            let Some((stem, ext)) = file.rsplit_once('.') else {
                continue;
            };
            let ext = ext.to_ascii_lowercase();
            if *folder == "xml" && ext == "xml" && safe_id(stem) {
                xml.entry(prefix)
                    .or_default()
                    .insert(stem.to_string(), name.to_string());
            } else if folder.starts_with("forms")
                && IMAGE_EXTENSIONS.contains(&ext.as_str())
                && safe_id(stem)
            {
                let by_id = forms.entry(prefix.clone()).or_default();
                if by_id.contains_key(stem) {
                    *duplicates.entry(prefix).or_default() += 1;
                } else {
                    by_id.insert(stem.to_string(), name.to_string());
                }
            } else if *folder == "task" && safe_id(file) {
                task.entry(prefix).or_default().push(name.to_string());
            }
        }
        let expected = "expected xml/<form id>.xml and forms/<form id>.png|jpg \
                        (the course's iamdb.zip holds iamdb/xml/ and iamdb/forms/)";
        let prefix = match xml.keys().collect::<Vec<_>>().as_slice() {
            [] => {
                top.sort();
                let found = if top.is_empty() {
                    "nothing".to_string()
                } else {
                    top.join(", ")
                };
                return Err(format!(
                    "no xml/ folder of IAM form XML files; {expected}; found {found}"
                ));
            }
            [one] => (*one).clone(),
            many => {
                let list: Vec<String> = many.iter().map(|p| format!("{p}xml/")).collect();
                return Err(format!(
                    "several xml/ folders ({}): expected exactly one IAM copy",
                    list.join(", ")
                ));
            }
        };
        let xml = xml.remove(&prefix).unwrap_or_default();
        let Some(forms) = forms.remove(&prefix) else {
            return Err(format!(
                "{prefix}xml/ has {} form XML files but there is no {prefix}forms/ folder with images; {expected}",
                xml.len()
            ));
        };
        let missing: Vec<&String> = xml.keys().filter(|id| !forms.contains_key(*id)).collect();
        if let Some(first) = missing.first() {
            let more = match missing.len() {
                1 => String::new(),
                n => format!(
                    " ({n} of {} forms lack their image: {}{})",
                    xml.len(),
                    missing
                        .iter()
                        .take(5)
                        .map(|s| s.as_str())
                        .collect::<Vec<_>>()
                        .join(", "),
                    if n > 5 { ", ..." } else { "" }
                ),
            };
            return Err(format!(
                "{} has no form image: expected {prefix}forms/{first}.{}{more}",
                xml[*first],
                IMAGE_EXTENSIONS.join("|")
            ));
        }
        let orphans = forms.keys().filter(|id| !xml.contains_key(*id)).count();
        Ok(Self {
            duplicates: duplicates.remove(&prefix).unwrap_or(0),
            task: task.remove(&prefix).unwrap_or_default(),
            orphans,
            prefix,
            xml,
            forms,
        })
    }

    /// `(source path, output path below TARGET)` of every file to import.
    pub fn outputs(&self) -> Vec<(String, String)> {
        let file = |p: &str| p.rsplit('/').next().unwrap_or(p).to_string();
        let xml = self
            .xml
            .values()
            .map(|p| (p.clone(), format!("xml/{}", file(p))));
        let forms = self.forms.iter().map(|(id, p)| {
            let ext = p
                .rsplit_once('.')
                .map_or("", |(_, e)| e)
                .to_ascii_lowercase();
            (p.clone(), format!("forms/{id}.{ext}"))
        });
        let task = self
            .task
            .iter()
            .map(|p| (p.clone(), format!("task/{}", file(p))));
        xml.chain(forms).chain(task).collect()
    }
}

/// A file name usable as an output name (no separators, no `..`).
fn safe_id(s: &str) -> bool {
    !s.is_empty() && s != ".." && !s.contains(['\\', '\0', ':'])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_courses_layout_and_a_flat_one_are_found() {
        let course = [
            "iamdb/xml/a01-000u.xml",
            "iamdb/forms/a01-000u.jpg",
            "iamdb/task/testset.txt",
            "__MACOSX/iamdb/xml/._a01-000u.xml",
            "iamdb/forms/.DS_Store",
        ];
        let l = IamLayout::find(course).unwrap();
        assert_eq!(l.prefix, "iamdb/");
        assert_eq!(
            l.outputs(),
            [
                ("iamdb/xml/a01-000u.xml", "xml/a01-000u.xml"),
                ("iamdb/forms/a01-000u.jpg", "forms/a01-000u.jpg"),
                ("iamdb/task/testset.txt", "task/testset.txt"),
            ]
            .map(|(a, b)| (a.to_string(), b.to_string()))
        );
        // IAM's own archives extracted side by side: formsA-D/, upper-case extension.
        let flat = [
            "xml/b01-000.xml",
            "formsA-D/b01-000.PNG",
            "formsE-H/e01-000.png",
        ];
        let l = IamLayout::find(flat).unwrap();
        assert_eq!((l.prefix.as_str(), l.orphans), ("", 1));
        assert_eq!(l.outputs()[1].1, "forms/b01-000.png");
    }

    #[test]
    fn missing_pieces_are_named() {
        let err = IamLayout::find(["forms/a.jpg", "README"]).unwrap_err();
        assert!(
            err.contains("no xml/ folder") && err.contains("found README, forms"),
            "{err}"
        );
        let err = IamLayout::find(["iamdb/xml/a.xml"]).unwrap_err();
        assert!(err.contains("no iamdb/forms/ folder"), "{err}");
        let err = IamLayout::find(["xml/a.xml", "xml/b.xml", "forms/a.jpg"]).unwrap_err();
        assert!(
            err.starts_with("xml/b.xml has no form image: expected forms/b.png|jpg"),
            "{err}"
        );
        let err = IamLayout::find(["a/xml/x.xml", "b/xml/x.xml"]).unwrap_err();
        assert!(
            err.contains("several xml/ folders (a/xml/, b/xml/)"),
            "{err}"
        );
    }
}
