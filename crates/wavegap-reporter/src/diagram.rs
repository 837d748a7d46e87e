//! The per-app flow diagram, twice: Mermaid text for Markdown and an inline SVG for HTML.
//!
//! The layout is three columns: clients from outside the app on the left, the app's servers
//! in the middle, everything they talk to on the right. Nodes are whatever the caller groups
//! addresses into (a server, another app, an on-premises range, a VPC), so a web tier with
//! thousands of clients is one box per network, and edges are merged per pair of nodes and
//! verdict. It is deliberately simple so that it is deterministic and needs no layout engine;
//! only past [`MAX_EDGES`] merged edges are some left out, and counted.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;

use serde::Serialize;

use crate::format;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum EdgeStatus {
    Rejected,
    Unanswered,
    Accepted,
}

impl EdgeStatus {
    fn word(self) -> &'static str {
        match self {
            EdgeStatus::Rejected => "rejected",
            EdgeStatus::Unanswered => "unanswered",
            EdgeStatus::Accepted => "accepted",
        }
    }

    fn color(self) -> &'static str {
        match self {
            EdgeStatus::Rejected => "#c62828",
            EdgeStatus::Unanswered => "#e65100",
            EdgeStatus::Accepted => "#78849a",
        }
    }
}

#[derive(Debug, Clone)]
pub struct Edge {
    pub from: String,
    pub to: String,
    pub label: String,
    pub status: EdgeStatus,
}

/// How a node reads: a title (a server's name, a network) and a second line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Node {
    pub title: Option<String>,
    pub detail: String,
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct Diagram {
    pub mermaid: String,
    /// A complete `<svg>` element, every text escaped.
    pub svg: String,
    pub nodes: usize,
    pub edges: usize,
    /// Merged edges left out to keep the diagram readable.
    pub omitted: usize,
}

/// Rejected, then unanswered, then accepted edges (merged per pair of nodes), up to this many.
pub const MAX_EDGES: usize = 40;
/// Services named on one edge; more are counted.
const MAX_LABELS: usize = 4;

const NODE_W: i64 = 200;
const NODE_H: i64 = 40;
const ROW: i64 = 58;
const COL_X: [i64; 3] = [10, 400, 790];
const WIDTH: i64 = 1000;

/// `app` are the keys of the app's own nodes; `nodes` says how every key reads.
pub fn build(id: &str, app: &BTreeSet<String>, nodes: &BTreeMap<String, Node>, edges: &[Edge]) -> Diagram {
    // One edge per (from, to, status) with its services joined; findings first.
    let mut by_pair: BTreeMap<(EdgeStatus, String, String), Vec<String>> = BTreeMap::new();
    for e in edges {
        let labels = by_pair.entry((e.status, e.from.clone(), e.to.clone())).or_default();
        if !labels.contains(&e.label) {
            labels.push(e.label.clone());
        }
    }
    let omitted = by_pair.len().saturating_sub(MAX_EDGES);
    let merged: BTreeMap<(String, String, EdgeStatus), Vec<String>> = by_pair
        .into_iter()
        .take(MAX_EDGES)
        .map(|((status, from, to), mut labels)| {
            if labels.len() > MAX_LABELS {
                let more = labels.len() - (MAX_LABELS - 1);
                labels.truncate(MAX_LABELS - 1);
                labels.push(format!("+{more} more"));
            }
            ((from, to, status), labels)
        })
        .collect();
    let sources: BTreeSet<&str> = merged.keys().map(|k| k.0.as_str()).collect();
    let targets: BTreeSet<&str> = merged.keys().map(|k| k.1.as_str()).collect();
    let mut columns: [Vec<String>; 3] = [Vec::new(), app.iter().cloned().collect(), Vec::new()];
    for ip in sources.union(&targets) {
        if app.contains(*ip) {
            continue;
        }
        let col = if targets.contains(ip) { 2 } else { 0 };
        columns[col].push((*ip).to_owned());
    }
    let mut pos: BTreeMap<&str, (usize, i64, i64)> = BTreeMap::new();
    let mut index: BTreeMap<&str, usize> = BTreeMap::new();
    for (c, col) in columns.iter().enumerate() {
        for (r, ip) in col.iter().enumerate() {
            pos.insert(ip.as_str(), (c, COL_X[c], 30 + ROW * i64::try_from(r).unwrap_or(0)));
        }
    }
    for (i, ip) in columns.iter().flatten().enumerate() {
        index.insert(ip.as_str(), i);
    }
    let rows = columns.iter().map(Vec::len).max().unwrap_or(0).max(1);
    let height = 40 + ROW * i64::try_from(rows).unwrap_or(0);
    let label_of = |key: &str| -> (Option<String>, String) {
        match nodes.get(key) {
            Some(n) => (n.title.as_deref().map(format::one_line), format::one_line(&n.detail)),
            None => (None, key.to_owned()),
        }
    };

    // Mermaid.
    let mut m = String::from("flowchart LR\n");
    let _ = writeln!(m, "  subgraph app[\"{}\"]", mermaid_text(id));
    for ip in &columns[1] {
        let (name, ip_text) = label_of(ip);
        let label = name.map_or_else(|| mermaid_text(&ip_text), |n| format!("{}<br/>{}", mermaid_text(&n), ip_text));
        let _ = writeln!(m, "    n{}[\"{label}\"]", index[ip.as_str()]);
    }
    m.push_str("  end\n");
    for ip in columns[0].iter().chain(&columns[2]) {
        let (name, ip_text) = label_of(ip);
        let label = name.map_or_else(|| mermaid_text(&ip_text), |n| format!("{}<br/>{}", mermaid_text(&n), ip_text));
        let _ = writeln!(m, "  n{}[\"{label}\"]", index[ip.as_str()]);
    }
    let mut styled: BTreeMap<&'static str, Vec<String>> = BTreeMap::new();
    for (i, ((from, to, status), labels)) in merged.iter().enumerate() {
        let text = match status {
            EdgeStatus::Accepted => labels.join(", "),
            s => format!("{} {}", s.word().to_uppercase(), labels.join(", ")),
        };
        let arrow = if *status == EdgeStatus::Accepted { "-->" } else { "-.->" };
        let _ = writeln!(m, "  n{} {arrow}|\"{}\"| n{}", index[from.as_str()], mermaid_text(&text), index[to.as_str()]);
        if *status != EdgeStatus::Accepted {
            styled.entry(status.color()).or_default().push(i.to_string());
        }
    }
    // One style line per colour, listing its edges.
    for (c, edges) in &styled {
        let _ = writeln!(m, "  linkStyle {} stroke:{c},stroke-width:3px,color:{c}", edges.join(","));
    }
    m.push_str("  classDef server fill:#e8f0fe,stroke:#1a56db\n");
    if !columns[1].is_empty() {
        let ids: Vec<String> = columns[1].iter().map(|ip| format!("n{}", index[ip.as_str()])).collect();
        let _ = writeln!(m, "  class {} server", ids.join(","));
    }

    // SVG.
    let prefix = format!("d-{}", format::slug(id));
    let mut s = String::new();
    let _ = write!(
        s,
        "<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"diagram\" viewBox=\"0 0 {WIDTH} {height}\" \
         role=\"img\" aria-label=\"flows of {}\">",
        format::xml(id)
    );
    s.push_str("<defs>");
    for status in [EdgeStatus::Accepted, EdgeStatus::Rejected, EdgeStatus::Unanswered] {
        let _ = write!(
            s,
            "<marker id=\"{prefix}-{w}\" viewBox=\"0 0 10 10\" refX=\"10\" refY=\"5\" markerWidth=\"7\" \
             markerHeight=\"7\" orient=\"auto-start-reverse\"><path d=\"M0 0L10 5L0 10z\" fill=\"{c}\"/></marker>",
            w = status.word(),
            c = status.color()
        );
    }
    s.push_str("</defs>");
    let _ = write!(
        s,
        "<text x=\"{}\" y=\"18\" class=\"col\">clients</text><text x=\"{}\" y=\"18\" class=\"col\">{}</text>\
         <text x=\"{}\" y=\"18\" class=\"col\">services</text>",
        COL_X[0],
        COL_X[1],
        format::xml(id),
        COL_X[2]
    );
    let mut loops = 0_i64;
    let mut placed: Vec<(i64, i64, i64, i64)> = Vec::new();
    for ((from, to, status), labels) in &merged {
        let (fc, fx, fy) = pos[from.as_str()];
        let (tc, tx, ty) = pos[to.as_str()];
        let (y1, y2) = (fy + NODE_H / 2, ty + NODE_H / 2);
        let (path, lx, ly, anchor) = if fc == tc {
            // Two servers of the app: an arc into the gap left of the column (clients' labels
            // sit at the far end of that gap), labelled at its apex.
            loops += 1;
            let x = fx;
            let bulge = x - 40 - 26 * ((loops - 1) % 6);
            let apex = x - (x - bulge) * 3 / 4;
            (format!("M{x} {y1}C{bulge} {y1} {bulge} {y2} {x} {y2}"), apex - 3, i64::midpoint(y1, y2) + 4, "end")
        } else {
            let (x1, x2) = if fc < tc { (fx + NODE_W, tx) } else { (fx, tx + NODE_W) };
            let mid = i64::midpoint(x1, x2);
            // Labels sit just above the end on the side with more boxes, where the edges are
            // still apart: at the client for edges into the app, at the service for edges out.
            let (lx, ly, anchor) = if tc == 1 { (x1 + 8, y1 - 5, "start") } else { (x2 - 12, y2 - 5, "end") };
            (format!("M{x1} {y1}C{mid} {y1} {mid} {y2} {x2} {y2}"), lx, ly, anchor)
        };
        let dash = match status {
            EdgeStatus::Accepted => "",
            EdgeStatus::Rejected => " stroke-dasharray=\"7 4\"",
            EdgeStatus::Unanswered => " stroke-dasharray=\"2 4\"",
        };
        let text = match status {
            EdgeStatus::Accepted => labels.join(", "),
            st => format!("{} {}", st.word(), labels.join(", ")),
        };
        // A label that would cover one already placed moves down a line, then up.
        let width = i64::try_from(text.chars().count()).unwrap_or(0) * 13 / 2;
        let left = match anchor {
            "start" => lx,
            "end" => lx - width,
            _ => lx - width / 2,
        };
        let free = |y: i64| !placed.iter().any(|&(l, r, t, b)| left < r && left + width > l && y - 11 < b && y + 2 > t);
        let ly = (0..40)
            .map(|k| ly + if k % 2 == 0 { 13 * k / 2 } else { -13 * (k + 1) / 2 })
            .find(|&y| free(y))
            .unwrap_or(ly);
        placed.push((left, left + width, ly - 11, ly + 2));
        let _ = write!(
            s,
            "<g class=\"edge {w}\"><title>{t}</title><path d=\"{path}\" fill=\"none\" stroke=\"{c}\" \
             stroke-width=\"{sw}\"{dash} marker-end=\"url(#{prefix}-{w})\"/>\
             <text x=\"{lx}\" y=\"{ly}\" text-anchor=\"{anchor}\" fill=\"{c}\">{t}</text></g>",
            w = status.word(),
            c = status.color(),
            sw = if *status == EdgeStatus::Accepted { "1.2" } else { "2.2" },
            t = format::xml(&text),
        );
    }
    for (ip, (c, x, y)) in &pos {
        let (name, ip_text) = label_of(ip);
        let class = if *c == 1 { "node server" } else { "node peer" };
        let _ = write!(
            s,
            "<g class=\"{class}\"><rect x=\"{x}\" y=\"{y}\" width=\"{NODE_W}\" height=\"{NODE_H}\" rx=\"6\"/>"
        );
        match name {
            Some(n) => {
                let _ = write!(
                    s,
                    "<text x=\"{cx}\" y=\"{y1}\" text-anchor=\"middle\" class=\"name\">{}</text>\
                     <text x=\"{cx}\" y=\"{y2}\" text-anchor=\"middle\" class=\"ip\">{}</text>",
                    format::xml(&truncate(&n, 26)),
                    format::xml(&truncate(&ip_text, 28)),
                    cx = x + NODE_W / 2,
                    y1 = y + 17,
                    y2 = y + 32
                );
            }
            None => {
                let _ = write!(
                    s,
                    "<text x=\"{cx}\" y=\"{cy}\" text-anchor=\"middle\" class=\"ip\">{}</text>",
                    format::xml(&truncate(&ip_text, 28)),
                    cx = x + NODE_W / 2,
                    cy = y + 25
                );
            }
        }
        s.push_str("</g>");
    }
    s.push_str("</svg>");
    Diagram { mermaid: m, svg: s, nodes: pos.len(), edges: merged.len(), omitted }
}

fn truncate(s: &str, max: usize) -> String {
    if s.chars().count() <= max { s.to_owned() } else { s.chars().take(max - 1).chain(['…']).collect() }
}

/// Text inside a quoted Mermaid label: entity codes for everything Mermaid or Markdown could
/// read as syntax.
fn mermaid_text(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '"' => out.push_str("#quot;"),
            '<' => out.push_str("#lt;"),
            '>' => out.push_str("#gt;"),
            '&' => out.push_str("#amp;"),
            '#' => out.push_str("#35;"),
            '`' => out.push_str("#96;"),
            '|' => out.push_str("#124;"),
            c if c.is_control() => out.push(' '),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn edge(from: &str, to: &str, label: &str, status: EdgeStatus) -> Edge {
        Edge { from: from.into(), to: to.into(), label: label.into(), status }
    }

    #[test]
    fn columns_and_escaping() {
        let app: BTreeSet<String> = ["10.0.0.6".to_owned(), "10.0.0.7".to_owned()].into();
        let node = |title: &str, detail: &str| Node { title: Some(title.into()), detail: detail.into() };
        let names: BTreeMap<String, Node> = [
            ("10.0.0.6".to_owned(), node("web<script>", "10.0.0.6")),
            ("10.0.0.7".to_owned(), node("app\"1", "10.0.0.7")),
        ]
        .into();
        let d = build(
            "orders",
            &app,
            &names,
            &[
                edge("192.168.1.1", "10.0.0.6", "tcp/80", EdgeStatus::Rejected),
                edge("10.0.0.6", "10.0.0.7", "tcp/8080", EdgeStatus::Accepted),
                edge("10.0.0.7", "192.168.50.20", "tcp/443", EdgeStatus::Unanswered),
            ],
        );
        assert_eq!((d.nodes, d.edges, d.omitted), (4, 3, 0));
        assert!(!d.svg.contains("<script>") && d.svg.contains("web&lt;script&gt;"));
        assert!(d.mermaid.contains("web#lt;script#gt;") && d.mermaid.contains("app#quot;1"));
        assert!(d.mermaid.contains("REJECTED tcp/80"));
        assert!(d.mermaid.contains("linkStyle"));
    }

    #[test]
    fn merges_per_pair_and_caps_the_edges() {
        let app: BTreeSet<String> = ["10.0.0.6".to_owned()].into();
        let mut edges: Vec<Edge> =
            (0..100).map(|i| edge(&format!("192.168.0.{i}"), "10.0.0.6", "tcp/80", EdgeStatus::Accepted)).collect();
        edges.push(edge("192.168.0.1", "10.0.0.6", "tcp/443", EdgeStatus::Rejected));
        let d = build("a", &app, &BTreeMap::new(), &edges);
        assert_eq!((d.edges, d.omitted), (MAX_EDGES, 101 - MAX_EDGES));
        assert!(d.mermaid.contains("REJECTED tcp/443"), "findings are drawn first");
        let services: Vec<Edge> =
            (0..9).map(|i| edge("onprem", "10.0.0.6", &format!("tcp/{}", 8000 + i), EdgeStatus::Accepted)).collect();
        let d = build("a", &app, &BTreeMap::new(), &services);
        assert_eq!(d.edges, 1);
        assert!(d.mermaid.contains("tcp/8000, tcp/8001, tcp/8002, +6 more"), "{}", d.mermaid);
    }
}
