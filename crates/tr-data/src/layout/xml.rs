//! A small, safe element tree over `quick-xml`, shared by the ALTO, PAGE and
//! IAM readers.
//!
//! Safety rules (page XML comes from users and from the web):
//!
//! * no entity is ever expanded beyond XML's five predefined ones and
//!   character references (`&#x27;`); any other `&name;` is
//!   [`LayoutError::UnknownEntity`] (quick-xml has no DTD support, so there
//!   is nothing to expand it from);
//! * a `<!DOCTYPE … [ … ]>` with an internal subset is refused outright
//!   ([`LayoutError::DoctypeSubset`]); a DOCTYPE naming an external DTD is
//!   ignored and the DTD is never fetched;
//! * nesting is capped at [`MAX_DEPTH`] levels;
//! * text must be UTF-8 (a UTF-8 BOM is allowed) or be declared
//!   `ISO-8859-1`/`latin1` (as IAM's XML is), which maps byte for byte.
//!
//! Names are **local names** (namespace prefixes dropped), so `alto:TextLine`,
//! `TextLine` in the ALTO v4 default namespace and a namespace-less v2
//! `TextLine` all read the same.

use std::borrow::Cow;

use quick_xml::events::{BytesStart, Event};
use quick_xml::Reader;

use super::error::LayoutError;

/// Deepest element nesting accepted; real ALTO/PAGE files stay under 15.
pub const MAX_DEPTH: usize = 256;

/// One element: local name, attributes (local names, values decoded), children, text.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Element {
    /// Local name (`TextLine` for `alto:TextLine`).
    pub name: String,
    /// Attributes by local name, values with entities and character references decoded.
    pub attrs: Vec<(String, String)>,
    /// Child elements in document order.
    pub children: Vec<Element>,
    /// The element's own text (not its children's), decoded, concatenated.
    pub text: String,
    /// 1-based line of the start tag in the source file.
    pub line: usize,
    /// Namespace URI declared for this element's prefix on this element, if any
    /// (set on the root of ALTO/PAGE files: it names the schema version).
    pub namespace: Option<String>,
}

impl Element {
    /// The attribute with this local name.
    pub fn attr(&self, name: &str) -> Option<&str> {
        self.attrs
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    /// The first child with this local name.
    pub fn child(&self, name: &str) -> Option<&Element> {
        self.children.iter().find(|c| c.name == name)
    }

    /// The children with this local name.
    pub fn children_named<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a Element> + 'a {
        self.children.iter().filter(move |c| c.name == name)
    }

    /// Every descendant (not `self`) in document order (pre-order).
    pub fn descendants(&self) -> Descendants<'_> {
        Descendants {
            stack: self.children.iter().rev().collect(),
        }
    }

    /// The first descendant with this local name.
    pub fn find(&self, name: &str) -> Option<&Element> {
        self.descendants().find(|e| e.name == name)
    }
}

/// Pre-order iterator over an element's descendants (see [`Element::descendants`]).
pub struct Descendants<'a> {
    stack: Vec<&'a Element>,
}

impl<'a> Iterator for Descendants<'a> {
    type Item = &'a Element;

    fn next(&mut self) -> Option<&'a Element> {
        let e = self.stack.pop()?;
        self.stack.extend(e.children.iter().rev());
        Some(e)
    }
}

/// Parses a whole document into its root element.
pub fn parse_document(bytes: &[u8]) -> Result<Element, LayoutError> {
    let text = decode_text(bytes)?;
    let lines = LineIndex::new(&text);
    let mut reader = Reader::from_str(&text);
    let config = reader.config_mut();
    config.check_end_names = true;
    config.expand_empty_elements = false;

    let mut stack: Vec<Element> = Vec::new();
    let mut root: Option<Element> = None;
    loop {
        let at = reader.buffer_position() as usize;
        let event = reader.read_event().map_err(|e| LayoutError::Malformed {
            line: lines.line(reader.error_position() as usize),
            message: e.to_string(),
        })?;
        let line = || lines.line(at);
        match event {
            Event::Start(start) => {
                if stack.len() >= MAX_DEPTH {
                    return Err(LayoutError::TooDeep {
                        line: line(),
                        max: MAX_DEPTH,
                    });
                }
                if root.is_some() {
                    return Err(second_root(line()));
                }
                stack.push(element(&start, line())?);
            }
            Event::Empty(start) => {
                if root.is_some() && stack.is_empty() {
                    return Err(second_root(line()));
                }
                let e = element(&start, line())?;
                match stack.last_mut() {
                    Some(parent) => parent.children.push(e),
                    None => root = Some(e),
                }
            }
            Event::End(_) => {
                let Some(done) = stack.pop() else {
                    return Err(LayoutError::Malformed {
                        line: line(),
                        message: "closing tag without an open element".into(),
                    });
                };
                match stack.last_mut() {
                    Some(parent) => parent.children.push(done),
                    None => root = Some(done),
                }
            }
            Event::Text(t) => {
                let content = t.xml10_content();
                push_text(&mut stack, &content, line())?;
            }
            Event::CData(t) => {
                let content = t.xml10_content();
                push_text(&mut stack, &content, line())?;
            }
            Event::GeneralRef(r) => {
                let resolved = match r.resolve_char_ref() {
                    Ok(Some(c)) => c,
                    Ok(None) => predefined(&r).ok_or_else(|| LayoutError::UnknownEntity {
                        line: line(),
                        name: r.to_string(),
                    })?,
                    Err(e) => {
                        return Err(LayoutError::Malformed {
                            line: line(),
                            message: format!("bad character reference &{};: {e}", &*r),
                        })
                    }
                };
                push_text(&mut stack, resolved.encode_utf8(&mut [0; 4]), line())?;
            }
            Event::DocType(d) => {
                if d.contains('[') {
                    return Err(LayoutError::DoctypeSubset { line: line() });
                }
            }
            Event::Decl(_) | Event::PI(_) | Event::Comment(_) => {}
            Event::Eof => break,
        }
    }
    if let Some(open) = stack.last() {
        return Err(LayoutError::Malformed {
            line: lines.line(text.len()),
            message: format!(
                "the file ends inside <{}> (opened at line {})",
                open.name, open.line
            ),
        });
    }
    root.ok_or_else(|| LayoutError::Malformed {
        line: 1,
        message: "no root element".into(),
    })
}

fn second_root(line: usize) -> LayoutError {
    LayoutError::Malformed {
        line,
        message: "content after the root element".into(),
    }
}

fn push_text(stack: &mut [Element], s: &str, line: usize) -> Result<(), LayoutError> {
    match stack.last_mut() {
        Some(e) => e.text.push_str(s),
        None if s.trim().is_empty() => {}
        None => {
            return Err(LayoutError::Malformed {
                line,
                message: "text outside the root element".into(),
            })
        }
    }
    Ok(())
}

fn predefined(name: &str) -> Option<char> {
    Some(match name {
        "lt" => '<',
        "gt" => '>',
        "amp" => '&',
        "apos" => '\'',
        "quot" => '"',
        _ => return None,
    })
}

fn element(start: &BytesStart<'_>, line: usize) -> Result<Element, LayoutError> {
    let qname = start.name();
    let name = qname.local_name().as_ref().to_string();
    let prefix = qname.prefix().map(|p| p.as_ref().to_string());
    let mut e = Element {
        name,
        line,
        ..Element::default()
    };
    for attr in start.attributes() {
        let attr = attr.map_err(|err| LayoutError::Malformed {
            line,
            message: format!("<{}>: {err}", e.name),
        })?;
        let key: &str = attr.key.as_ref();
        let value = attr
            .normalized_value(quick_xml::XmlVersion::Implicit1_0)
            .map_err(|err| attribute_error(err, &e.name, key, line))?;
        // Namespace declarations are not attributes of the model; keep the
        // one that names this element's own namespace (the schema version).
        if key == "xmlns" || key.starts_with("xmlns:") {
            let declared = key.strip_prefix("xmlns:");
            if declared == prefix.as_deref() {
                e.namespace = Some(value.into_owned());
            }
            continue;
        }
        let local = attr.key.local_name().as_ref().to_string();
        e.attrs.push((local, value.into_owned()));
    }
    Ok(e)
}

fn attribute_error(err: quick_xml::Error, element: &str, key: &str, line: usize) -> LayoutError {
    if let quick_xml::Error::Escape(quick_xml::escape::EscapeError::UnrecognizedEntity(_, name)) =
        &err
    {
        return LayoutError::UnknownEntity {
            line,
            name: name.clone(),
        };
    }
    LayoutError::Malformed {
        line,
        message: format!("<{element} {key}=...>: {err}"),
    }
}

/// The file's bytes as text: UTF-8 (BOM stripped), or ISO-8859-1 when declared.
fn decode_text(bytes: &[u8]) -> Result<Cow<'_, str>, LayoutError> {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    if bytes.starts_with(b"\xFF\xFE") || bytes.starts_with(b"\xFE\xFF") {
        return Err(LayoutError::UnsupportedEncoding {
            found: "UTF-16 (byte-order mark)".into(),
        });
    }
    match declared_encoding(bytes).map(|e| e.to_ascii_lowercase()) {
        None => {}
        Some(e) if e == "utf-8" || e == "utf8" || e == "us-ascii" || e == "ascii" => {}
        Some(e) if e == "iso-8859-1" || e == "latin1" || e == "latin-1" || e == "iso8859-1" => {
            return Ok(Cow::Owned(bytes.iter().map(|&b| char::from(b)).collect()));
        }
        Some(found) => return Err(LayoutError::UnsupportedEncoding { found }),
    }
    std::str::from_utf8(bytes).map(Cow::Borrowed).map_err(|e| {
        let offset = e.valid_up_to();
        LayoutError::NotUtf8 {
            line: 1 + bytes[..offset].iter().filter(|&&b| b == b'\n').count(),
            offset,
        }
    })
}

/// The `encoding="…"` of a leading `<?xml … ?>` declaration.
fn declared_encoding(bytes: &[u8]) -> Option<String> {
    let head = bytes.strip_prefix(b"<?xml")?;
    let end = head.windows(2).position(|w| w == b"?>")?;
    let decl = std::str::from_utf8(&head[..end]).ok()?;
    let rest = &decl[decl.find("encoding")? + "encoding".len()..];
    let rest = rest.trim_start().strip_prefix('=')?.trim_start();
    let quote = rest.chars().next().filter(|c| *c == '"' || *c == '\'')?;
    let value = &rest[1..];
    Some(value[..value.find(quote)?].to_string())
}

/// Byte offset → 1-based line number.
struct LineIndex {
    starts: Vec<usize>,
}

impl LineIndex {
    fn new(text: &str) -> Self {
        let mut starts = vec![0];
        starts.extend(text.match_indices('\n').map(|(i, _)| i + 1));
        LineIndex { starts }
    }

    fn line(&self, offset: usize) -> usize {
        self.starts.partition_point(|&s| s <= offset)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn local_names_and_decoded_values() {
        let doc = br#"<?xml version="1.0"?>
<a:root xmlns:a="urn:x"><a:Line CONTENT="Tom &amp; &quot;Jerry&quot; &#x27;s"/><b>x &lt; y&#233;</b></a:root>"#;
        let root = parse_document(doc).unwrap();
        assert_eq!(root.name, "root");
        assert_eq!(root.namespace.as_deref(), Some("urn:x"));
        let line = root.child("Line").unwrap();
        assert_eq!(line.attr("CONTENT"), Some("Tom & \"Jerry\" 's"));
        assert_eq!(line.line, 2);
        assert_eq!(root.child("b").unwrap().text, "x < yé");
    }

    #[test]
    fn custom_entities_and_internal_subsets_are_refused() {
        let subset = b"<?xml version=\"1.0\"?>\n<!DOCTYPE r [<!ENTITY e \"boom\">]>\n<r>&e;</r>";
        assert!(matches!(
            parse_document(subset),
            Err(LayoutError::DoctypeSubset { line: 2 })
        ));
        let undeclared = b"<r>\n<t>&e;</t></r>";
        assert!(matches!(
            parse_document(undeclared),
            Err(LayoutError::UnknownEntity { line: 2, ref name }) if name == "e"
        ));
        let in_attr = b"<r a=\"&e;\"/>";
        assert!(matches!(
            parse_document(in_attr),
            Err(LayoutError::UnknownEntity { .. })
        ));
        // An external DTD is named but never fetched.
        let external = b"<!DOCTYPE r SYSTEM \"http://example.invalid/r.dtd\"><r/>";
        assert_eq!(parse_document(external).unwrap().name, "r");
    }

    #[test]
    fn malformed_and_encodings() {
        assert!(matches!(
            parse_document(b"<r>\n<a></b></r>"),
            Err(LayoutError::Malformed { line: 2, .. })
        ));
        assert!(matches!(
            parse_document(b"<r><a>"),
            Err(LayoutError::Malformed { .. })
        ));
        assert!(matches!(
            parse_document(b"<r/><s/>"),
            Err(LayoutError::Malformed { .. })
        ));
        assert!(matches!(
            parse_document(b"<r>\n\n\xff</r>"),
            Err(LayoutError::NotUtf8 { line: 3, .. })
        ));
        let latin1 = b"<?xml version=\"1.0\" encoding=\"ISO-8859-1\"?><r t=\"caf\xe9\"/>";
        assert_eq!(parse_document(latin1).unwrap().attr("t"), Some("café"));
        assert!(matches!(
            parse_document(b"<?xml version=\"1.0\" encoding=\"Shift_JIS\"?><r/>"),
            Err(LayoutError::UnsupportedEncoding { .. })
        ));
    }

    #[test]
    fn depth_is_capped() {
        let deep = format!(
            "{}{}",
            "<a>".repeat(MAX_DEPTH + 1),
            "</a>".repeat(MAX_DEPTH + 1)
        );
        assert!(matches!(
            parse_document(deep.as_bytes()),
            Err(LayoutError::TooDeep { .. })
        ));
    }
}
