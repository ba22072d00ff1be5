//! [`Page`] → PAGE XML 2019-07-15.
//!
//! ```xml
//! <PcGts xmlns="http://schema.primaresearch.org/PAGE/gts/pagecontent/2019-07-15">
//!   <Metadata><Creator/><Created/><LastChange/></Metadata>
//!   <Page imageFilename="…" imageWidth="W" imageHeight="H">
//!     <ReadingOrder><OrderedGroup id="ro">
//!       <RegionRefIndexed index="0" regionRef="r0"/> …</OrderedGroup></ReadingOrder>
//!     <TextRegion id="r0"><Coords points="…"/>
//!       <TextLine id="l0_0" custom="readingOrder {index:0;}"><Coords points="…"/>
//!         <Baseline points="…"/><TextEquiv conf="0.93"><Unicode>…</Unicode></TextEquiv>
//!       </TextLine> …
//!       <TextEquiv><Unicode>the region's lines joined by \n</Unicode></TextEquiv>
//!     </TextRegion>
//!   </Page>
//! </PcGts>
//! ```
//!
//! A region without an outline gets its lines' bounding box (PAGE requires
//! `Coords`); a region without lines, the page's.

use std::fmt::Write;

use super::{escape, ids, points, WriteOptions};
use crate::layout::geometry::BBox;
use crate::layout::model::Page;

/// The PAGE 2019 namespace.
pub const PAGE_2019_NS: &str = "http://schema.primaresearch.org/PAGE/gts/pagecontent/2019-07-15";

/// Writes `page` as a PAGE 2019 document.
pub fn write_page_xml(page: &Page, opts: &WriteOptions) -> String {
    let mut s = String::new();
    let created = escape(&opts.created());
    let ids = ids(page);
    let _ = writeln!(s, r#"<?xml version="1.0" encoding="UTF-8"?>"#);
    let _ = writeln!(
        s,
        r#"<PcGts xmlns="{PAGE_2019_NS}" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xsi:schemaLocation="{PAGE_2019_NS} {PAGE_2019_NS}/pagecontent.xsd">"#
    );
    let _ = writeln!(
        s,
        "  <Metadata>\n    <Creator>{}</Creator>\n    <Created>{created}</Created>\n    <LastChange>{created}</LastChange>\n  </Metadata>",
        escape(&opts.creator)
    );
    let _ = writeln!(
        s,
        r#"  <Page imageFilename="{}" imageWidth="{}" imageHeight="{}">"#,
        escape(&opts.image_name(page)),
        page.width.max(1),
        page.height.max(1)
    );
    if !page.regions.is_empty() {
        let _ = writeln!(
            s,
            "    <ReadingOrder>\n      <OrderedGroup id=\"ro_0\" caption=\"Regions reading order\">"
        );
        for (i, (rid, _)) in ids.iter().enumerate() {
            let _ = writeln!(
                s,
                r#"        <RegionRefIndexed index="{i}" regionRef="{rid}"/>"#
            );
        }
        let _ = writeln!(s, "      </OrderedGroup>\n    </ReadingOrder>");
    }
    let page_box = BBox::from_xywh(0.0, 0.0, page.width as f32, page.height as f32);
    for (region, (rid, line_ids)) in page.regions.iter().zip(&ids) {
        let outline = region.polygon.clone().unwrap_or_else(|| {
            region
                .lines
                .iter()
                .map(|l| BBox::of_points(&l.polygon).unwrap_or(l.bbox))
                .reduce(|a, b| a.union(&b))
                .unwrap_or(page_box)
                .corners()
        });
        let kind = region
            .kind
            .as_deref()
            .map(|k| format!(r#" custom="structure {{type:{};}}""#, escape(k)))
            .unwrap_or_default();
        let _ = writeln!(s, r#"    <TextRegion id="{rid}"{kind}>"#);
        let _ = writeln!(s, r#"      <Coords points="{}"/>"#, points(&outline));
        for (j, (line, lid)) in region.lines.iter().zip(line_ids).enumerate() {
            let polygon = if line.polygon.len() >= 3 {
                line.polygon.clone()
            } else {
                line.bbox.corners()
            };
            let _ = writeln!(
                s,
                r#"      <TextLine id="{lid}" custom="readingOrder {{index:{j};}}">"#
            );
            let _ = writeln!(s, r#"        <Coords points="{}"/>"#, points(&polygon));
            if let Some(b) = line.baseline.as_deref().filter(|b| b.len() >= 2) {
                let _ = writeln!(s, r#"        <Baseline points="{}"/>"#, points(b));
            }
            let conf = line
                .confidence
                .map(|c| format!(r#" conf="{:.4}""#, c.clamp(0.0, 1.0)))
                .unwrap_or_default();
            let _ = writeln!(
                s,
                "        <TextEquiv{conf}>\n          <Unicode>{}</Unicode>\n        </TextEquiv>\n      </TextLine>",
                escape(&line.text)
            );
        }
        let text: Vec<&str> = region.lines.iter().map(|l| l.text.as_str()).collect();
        let _ = writeln!(
            s,
            "      <TextEquiv>\n        <Unicode>{}</Unicode>\n      </TextEquiv>\n    </TextRegion>",
            escape(&text.join("\n"))
        );
    }
    let _ = writeln!(s, "  </Page>\n</PcGts>");
    s
}
