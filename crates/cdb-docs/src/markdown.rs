//! The one wrapper around pulldown-cmark: headings, anchors, links, code blocks and front matter.

use crate::Span;
use crate::info::InfoString;
use crate::slug::Slugger;
use pulldown_cmark::{
    CodeBlockKind, Event, HeadingLevel, MetadataBlockKind, Options, Parser, Tag, TagEnd,
};

/// One heading.
#[derive(Clone, Debug)]
pub struct Heading {
    pub level: u8,
    /// The plain text (emphasis, code spans and link text flattened).
    pub text: String,
    /// The anchor GitHub gives it (or the explicit `{#id}`).
    pub anchor: String,
    pub span: Span,
}

/// Where a link points.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum LinkTarget {
    /// `http:`, `https:`, `mailto:` and other schemes: never fetched.
    External(String),
    /// `#fragment` in the same file.
    Fragment(String),
    /// `path` or `path#fragment`, relative to the file (or to the root when it starts with `/`).
    File {
        path: String,
        fragment: Option<String>,
    },
}

/// One link or image reference.
#[derive(Clone, Debug)]
pub struct Link {
    pub dest: String,
    pub target: LinkTarget,
    pub span: Span,
}

/// One fenced code block.
#[derive(Clone, Debug)]
pub struct CodeBlock {
    pub info: InfoString,
    /// The raw info string.
    pub info_raw: String,
    pub body: String,
    /// The whole block, fences included.
    pub span: Span,
    /// The opening fence line.
    pub fence_span: Span,
}

/// A parsed markdown document.
#[derive(Clone, Debug, Default)]
pub struct MdDoc {
    pub headings: Vec<Heading>,
    /// Every anchor the document defines: heading slugs, `{#id}`, `<a id>`/`<a name>`, and
    /// the ids of fenced blocks (MkDocs renders them as targets).
    pub anchors: Vec<(String, Span)>,
    pub links: Vec<Link>,
    pub code_blocks: Vec<CodeBlock>,
    /// YAML front matter between `---` lines at the very start.
    pub front_matter: Option<(String, Span)>,
    /// Inline code spans (`` `NAME` ``) outside headings: their text and span, in document order.
    pub code_spans: Vec<(String, Span)>,
    /// The names of `anchors`, so a link check costs one lookup whatever the number of headings.
    anchor_names: std::collections::HashSet<String>,
}

impl MdDoc {
    pub fn parse(text: &str) -> MdDoc {
        let mut opts = Options::empty();
        opts.insert(Options::ENABLE_TABLES);
        opts.insert(Options::ENABLE_HEADING_ATTRIBUTES);
        opts.insert(Options::ENABLE_YAML_STYLE_METADATA_BLOCKS);
        opts.insert(Options::ENABLE_STRIKETHROUGH);
        opts.insert(Options::ENABLE_TASKLISTS);
        opts.insert(Options::ENABLE_FOOTNOTES);

        let mut doc = MdDoc::default();
        let mut slugger = Slugger::default();
        // Heading state: level, explicit id, collected text, span.
        let mut heading: Option<(HeadingLevel, Option<String>, String, Span)> = None;
        let mut code: Option<(InfoString, String, String, Span)> = None;
        let mut metadata: Option<(String, Span)> = None;

        for (event, range) in Parser::new_ext(text, opts).into_offset_iter() {
            match event {
                Event::Start(Tag::Heading { level, id, .. }) => {
                    heading = Some((level, id.map(|s| s.to_string()), String::new(), range));
                }
                Event::End(TagEnd::Heading(_)) => {
                    if let Some((level, id, htext, span)) = heading.take() {
                        let anchor = match id {
                            Some(id) => {
                                slugger.reserve(&id);
                                id
                            }
                            None => slugger.slug(&htext),
                        };
                        doc.anchors.push((anchor.clone(), span.clone()));
                        doc.headings.push(Heading {
                            level: level as u8,
                            text: htext.trim().to_owned(),
                            anchor,
                            span,
                        });
                    }
                }
                Event::Code(ref t) if heading.is_none() && code.is_none() => {
                    doc.code_spans.push((t.to_string(), range.clone()));
                }
                Event::Text(t) | Event::Code(t) => {
                    if let Some((_, _, htext, _)) = heading.as_mut() {
                        htext.push_str(&t);
                    }
                    if let Some((_, _, body, _)) = code.as_mut() {
                        body.push_str(&t);
                    }
                    if let Some((body, _)) = metadata.as_mut() {
                        body.push_str(&t);
                    }
                }
                Event::Html(h) | Event::InlineHtml(h) => {
                    collect_html_anchors(&h, range.start, &mut doc.anchors);
                }
                Event::Start(Tag::CodeBlock(CodeBlockKind::Fenced(info))) => {
                    let raw = info.to_string();
                    code = Some((InfoString::parse(&raw), raw, String::new(), range));
                }
                Event::End(TagEnd::CodeBlock) => {
                    if let Some((info, info_raw, body, span)) = code.take() {
                        let fence_end = text[span.clone()]
                            .find('\n')
                            .map_or(span.end, |i| span.start + i);
                        if let Some(id) = &info.attrs.id {
                            doc.anchors.push((id.clone(), span.clone()));
                        }
                        doc.code_blocks.push(CodeBlock {
                            info,
                            info_raw,
                            body,
                            fence_span: span.start..fence_end,
                            span,
                        });
                    }
                }
                Event::Start(Tag::Link { dest_url, .. })
                | Event::Start(Tag::Image { dest_url, .. }) => {
                    let dest = dest_url.to_string();
                    doc.links.push(Link {
                        target: classify(&dest),
                        dest,
                        span: range,
                    });
                }
                Event::Start(Tag::MetadataBlock(MetadataBlockKind::YamlStyle)) => {
                    metadata = Some((String::new(), range));
                }
                Event::End(TagEnd::MetadataBlock(_)) => {
                    if let Some((body, span)) = metadata.take()
                        && span.start == 0
                    {
                        doc.front_matter = Some((body, span));
                    }
                }
                _ => {}
            }
        }
        doc.anchor_names = doc.anchors.iter().map(|(a, _)| a.clone()).collect();
        doc
    }

    /// Whether the document defines this anchor.
    pub fn has_anchor(&self, anchor: &str) -> bool {
        self.anchor_names.contains(anchor)
    }

    /// The heading that owns a byte offset: the last heading of at most `max_level` before it.
    pub fn section_of(&self, offset: usize, max_level: u8) -> Option<&Heading> {
        self.headings
            .iter()
            .rfind(|h| h.level <= max_level && h.span.start <= offset)
    }

    /// The byte range of the section a heading opens: up to the next heading of the same or a higher level.
    pub fn section_range(&self, heading: &Heading, text_len: usize) -> Span {
        let end = self
            .headings
            .iter()
            .filter(|h| h.span.start > heading.span.start && h.level <= heading.level)
            .map(|h| h.span.start)
            .next()
            .unwrap_or(text_len);
        heading.span.start..end
    }
}

fn classify(dest: &str) -> LinkTarget {
    if let Some(frag) = dest.strip_prefix('#') {
        return LinkTarget::Fragment(frag.to_owned());
    }
    let has_scheme = dest.split_once(':').is_some_and(|(scheme, _)| {
        !scheme.is_empty()
            && scheme
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "+-.".contains(c))
            && scheme.len() > 1
    });
    if has_scheme || dest.starts_with("//") {
        return LinkTarget::External(dest.to_owned());
    }
    let (path, fragment) = match dest.split_once('#') {
        Some((p, f)) => (p, Some(f.to_owned())),
        None => (dest, None),
    };
    let path = path.split_once('?').map_or(path, |(p, _)| p);
    LinkTarget::File {
        path: percent_decode(path),
        fragment,
    }
}

/// Decodes `%20`-style escapes in link paths; malformed escapes stay as written.
pub fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%'
            && let Some(Ok(b)) = s.get(i + 1..i + 3).map(|h| u8::from_str_radix(h, 16))
        {
            out.push(b);
            i += 3;
            continue;
        }
        out.push(bytes[i]);
        i += 1;
    }
    // Escapes that decode to no UTF-8 name no file in the hub: the link is kept as written, and
    // the link rules report it as missing under that name.
    String::from_utf8(out).unwrap_or_else(|_| s.to_owned())
}

/// Finds `id="…"` and `name="…"` on `<a …>` tags, the explicit anchors GitHub keeps.
fn collect_html_anchors(html: &str, base: usize, out: &mut Vec<(String, Span)>) {
    let lower = html.to_ascii_lowercase();
    let mut from = 0;
    while let Some(rel) = lower[from..].find("<a ") {
        let tag_start = from + rel;
        let tag_end = lower[tag_start..]
            .find('>')
            .map_or(lower.len(), |e| tag_start + e);
        let tag = &html[tag_start..tag_end];
        let tag_lower = &lower[tag_start..tag_end];
        for key in ["id=", "name="] {
            let mut search = 0;
            while let Some(k) = tag_lower[search..].find(key) {
                let at = search + k;
                // The key must start an attribute, not end another one (`data-id=`).
                let starts_attr = at == 0 || tag_lower.as_bytes()[at - 1].is_ascii_whitespace();
                let vstart = at + key.len();
                search = vstart;
                if !starts_attr {
                    continue;
                }
                let quote = tag.as_bytes().get(vstart).copied();
                let (value, _) = match quote {
                    Some(q @ (b'"' | b'\'')) => {
                        let rest = &tag[vstart + 1..];
                        match rest.find(q as char) {
                            Some(e) => (&rest[..e], ()),
                            None => continue,
                        }
                    }
                    _ => {
                        let rest = &tag[vstart..];
                        let e = rest
                            .find(|c: char| c.is_whitespace() || c == '/')
                            .unwrap_or(rest.len());
                        (&rest[..e], ())
                    }
                };
                if !value.is_empty() {
                    out.push((value.to_owned(), base + tag_start..base + tag_end));
                }
            }
        }
        from = tag_end.max(tag_start + 1);
        if from >= lower.len() {
            break;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn collects_headings_links_blocks_and_front_matter() {
        let text = "---\ntitle: x\n---\n# Intro\n\nSee [db](runbook.md#database) and [here](#intro-1).\n\n## Intro {#intro-1}\n\n<a id=\"legacy\"></a>\n\n```bash {#s1 .step class=database phase=rotate}\necho hi\n```\n\n# Intro\n";
        let d = MdDoc::parse(text);
        let anchors: Vec<_> = d.headings.iter().map(|h| h.anchor.as_str()).collect();
        assert_eq!(anchors, ["intro", "intro-1", "intro-2"]);
        assert!(d.has_anchor("legacy"));
        assert!(d.has_anchor("s1"));
        assert_eq!(d.links.len(), 2);
        assert_eq!(
            d.links[0].target,
            LinkTarget::File {
                path: "runbook.md".into(),
                fragment: Some("database".into())
            }
        );
        assert_eq!(d.links[1].target, LinkTarget::Fragment("intro-1".into()));
        assert_eq!(d.code_blocks.len(), 1);
        assert_eq!(d.code_blocks[0].body, "echo hi\n");
        assert_eq!(
            &text[d.code_blocks[0].fence_span.clone()],
            "```bash {#s1 .step class=database phase=rotate}"
        );
        assert_eq!(
            d.front_matter.as_ref().map(|f| f.0.as_str()),
            Some("title: x\n")
        );
    }

    #[test]
    fn classifies_targets() {
        assert!(matches!(
            classify("https://x.example/a"),
            LinkTarget::External(_)
        ));
        assert!(matches!(
            classify("mailto:security@example.org"),
            LinkTarget::External(_)
        ));
        assert_eq!(
            classify("a%20b.md"),
            LinkTarget::File {
                path: "a b.md".into(),
                fragment: None
            }
        );
        assert_eq!(
            classify("C:x.md"),
            LinkTarget::File {
                path: "C:x.md".into(),
                fragment: None
            }
        );
    }
}
