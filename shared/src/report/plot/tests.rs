//! The plots' tests, the rendered check in headless Chromium among them.

use std::path::{Path, PathBuf};

use plotters::style::RGBColor;

use crate::model::figure::Measure;

/// Headless Chromium, when this machine has it. Where `CASEBOOK_REQUIRE_CHROMIUM` is set
/// (CI installs it and sets it), a missing browser fails the test instead of skipping it.
fn chromium() -> Option<PathBuf> {
    let found = ["chromium", "chromium-browser", "google-chrome"].into_iter().find_map(|name| {
        std::env::var_os("PATH")?.to_str()?.split(':').map(|dir| Path::new(dir).join(name)).find(|p| p.exists())
    });
    if found.is_none() {
        assert!(
            std::env::var_os("CASEBOOK_REQUIRE_CHROMIUM").is_none(),
            "CASEBOOK_REQUIRE_CHROMIUM is set but no chromium is on the PATH"
        );
        eprintln!("no chromium on the PATH: the rendering check is skipped here (CI runs it)");
    }
    found
}

/// Renders an SVG in headless Chromium and returns every text element that runs outside
/// the canvas, as the browser lays it out (rotations and fonts included), or why it could
/// not render.
fn overflowing_text(browser: &Path, svg: &Path) -> Result<Vec<String>, String> {
    let body = std::fs::read_to_string(svg).map_err(|e| e.to_string())?;
    let page = format!(
        r#"<!DOCTYPE html><html><body style="margin:0">{body}<pre id="result"></pre><script>
const svg = document.querySelector('svg');
const frame = svg.getBoundingClientRect();
const out = [];
let texts = 0;
for (const t of svg.querySelectorAll('text')) {{
  texts++;
  const b = t.getBoundingClientRect();
  if (b.width > 0 && (b.left < frame.left - 0.5 || b.top < frame.top - 0.5 || b.right > frame.right + 0.5 || b.bottom > frame.bottom + 0.5))
out.push(t.textContent.trim());
}}
document.getElementById('result').textContent = 'RESULT ' + texts + ' ' + JSON.stringify(out) + ' END';
</script></body></html>"#
    );
    let dir = tempfile::tempdir().map_err(|e| e.to_string())?;
    let html = dir.path().join("page.html");
    std::fs::write(&html, page).map_err(|e| e.to_string())?;
    let output = std::process::Command::new(browser)
        .args(["--headless", "--no-sandbox", "--disable-gpu", "--dump-dom"])
        .arg(format!("file://{}", html.display()))
        .output()
        .map_err(|e| e.to_string())?;
    let dom = String::from_utf8_lossy(&output.stdout);
    let result =
        dom.split("RESULT ").nth(1).and_then(|r| r.split(" END").next()).ok_or("chromium printed no result")?;
    let (texts, list) = result.split_once(' ').ok_or("a malformed result")?;
    if texts == "0" {
        return Err("the SVG has no text".into());
    }
    let list = list.replace("&quot;", "\"");
    serde_json::from_str::<Vec<String>>(&list).map_err(|e| format!("{e}: {list}"))
}

#[test]
fn text_outside_the_canvas_is_caught_and_no_plot_has_any() {
    let Some(browser) = chromium() else { return };
    let dir = tempfile::tempdir().unwrap();
    let planted = dir.path().join("planted.svg");
    std::fs::write(&planted, r#"<svg xmlns="http://www.w3.org/2000/svg" width="200" height="100"><text x="150" y="50" font-size="20">far too long a label</text><text x="10" y="50">fits</text></svg>"#).unwrap();
    assert_eq!(overflowing_text(&browser, &planted).unwrap(), ["far too long a label"]);
    let mut drawn = super::draw(&crate::report::map::tests::report(), dir.path()).unwrap();
    drawn.extend(super::draw(&crate::report::verdicts::tests::report(), dir.path()).unwrap());
    drawn.extend(super::draw(&crate::report::sweep::tests::capacity_report(), dir.path()).unwrap());
    drawn.extend(super::draw(&scatter_report(), dir.path()).unwrap());
    for plot in drawn {
        assert_eq!(
            overflowing_text(&browser, &dir.path().join(&plot.file)).unwrap(),
            Vec::<String>::new(),
            "{}",
            plot.file
        );
    }
}

#[test]
fn every_plot_in_the_book_renders_with_its_text_inside_the_canvas() {
    let Some(browser) = chromium() else { return };
    let results = Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs/src/results");
    let mut dirs = vec![results];
    let mut checked = 0;
    while let Some(dir) = dirs.pop() {
        for entry in std::fs::read_dir(&dir).into_iter().flatten().flatten() {
            let path = entry.path();
            if path.is_dir() {
                dirs.push(path);
            } else if path.extension().is_some_and(|e| e == "svg") {
                assert_eq!(overflowing_text(&browser, &path).unwrap(), Vec::<String>::new(), "{}", path.display());
                checked += 1;
            }
        }
    }
    eprintln!("{checked} plots in the book rendered in chromium");
}

/// Every text of an SVG with where it starts across: `<text x="12" ...>label\n</text>`.
fn texts(svg: &str) -> Vec<(f64, &str)> {
    svg.split("<text x=\"")
        .skip(1)
        .filter_map(|t| {
            let (x, rest) = t.split_once('"')?;
            Some((x.parse().ok()?, rest.split_once('>')?.1.split_once("</text>")?.0.trim()))
        })
        .collect()
}

/// A sweep of three variants over two points, with a scatter of cores busy against
/// lateness p99 at the smaller one, where the lateness spans two decades.
fn scatter_report() -> crate::Report {
    use crate::{
        model::figure::{CORES_BUSY, Hist},
        model::plan::{Axis, PlotSpec, Row, SweepPoint, Table, TableId},
        report::verdicts::tests::{Demo, INFO},
        testing::ReportBuilder,
    };
    const CLIENTS: TableId = TableId::new("clients");
    const LATENESS: Hist = Hist::micros("lateness");
    let mut table = Table::new(CLIENTS, "clients");
    table.axis = Some(Axis::new("clients").log());
    table.plots = vec![PlotSpec::scatter(CORES_BUSY, Measure::quantile(LATENESS, 0.99), SweepPoint::At(1000.0))];
    let points = [(Demo::Seq, 0.4, 20u64), (Demo::Threads, 1.1, 300), (Demo::Tasks, 0.7, 2500)];
    let sweep = [1000.0, 5000.0];
    table.rows = points.iter().flat_map(|p| sweep.map(|clients| Row::at(p.0, clients, ()))).collect();
    let mut report = ReportBuilder::new::<Demo>(&INFO, &(), vec![table]);
    for (variant, cores, lateness) in points {
        for clients in sweep {
            let late = [lateness * clients as u64 / 1000; 100];
            report = report.figure(CLIENTS, (variant, clients), CORES_BUSY, &[cores, cores]).histogram(
                CLIENTS,
                (variant, clients),
                LATENESS,
                &[&late, &late],
            );
        }
    }
    report.build()
}

#[test]
fn a_scatter_draws_one_marker_per_variant_at_its_sweep_point() {
    let dir = tempfile::tempdir().unwrap();
    let drawn = super::draw(&scatter_report(), dir.path()).unwrap();
    assert_eq!(drawn.len(), 1);
    assert_eq!(drawn[0].title, "clients: lateness p99 against cores busy at 1,000 clients");
    let svg = std::fs::read_to_string(dir.path().join(&drawn[0].file)).unwrap();
    // Each variant's marker twice, in its colour: once in the data, once in the legend.
    for (i, name) in ["seq", "threads", "tasks"].into_iter().enumerate() {
        let RGBColor(r, g, b) = super::colour(i);
        let fill = format!("fill=\"#{r:02X}{g:02X}{b:02X}\"");
        assert_eq!(svg.matches(&fill).count(), 2, "{name}'s marker ({fill}) in {svg}");
        // No line joins them, nor stands for one in the legend.
        assert!(!svg.contains(&fill.replace("fill", "stroke")), "{name} has a line in {svg}");
    }
    let texts: Vec<&str> = texts(&svg).into_iter().map(|t| t.1).collect();
    for name in ["seq", "threads", "tasks"] {
        assert_eq!(texts.iter().filter(|t| **t == name).count(), 1, "{name} in the legend: {texts:?}");
    }
    for text in ["cores busy (CPU s per s)", "lateness p99", "1.0 ms", "0.80"] {
        assert!(texts.contains(&text), "the scatter lacks {text}: {texts:?}");
    }
    assert!(texts.iter().any(|t| t.ends_with("at 1,000 clients")), "{texts:?}");
}

#[test]
fn a_map_becomes_a_heatmap_with_a_cell_per_point() {
    let report = crate::report::map::tests::report();
    let dir = tempfile::tempdir().unwrap();
    let drawn = super::draw(&report, dir.path()).unwrap();
    let map = drawn.iter().find(|p| p.table == "map:mix").expect("the map is drawn");
    let svg = std::fs::read_to_string(dir.path().join(&map.file)).unwrap();
    for text in ["tasks by 1.50x", "too close to call", "threads by", "in flight", "CPU µs", "4096", "async"] {
        assert!(svg.contains(text), "the heatmap lacks {text}");
    }
}

#[test]
fn a_sweep_becomes_an_svg_with_one_line_per_variant() {
    let report = crate::report::verdicts::tests::report();
    let dir = tempfile::tempdir().unwrap();
    let drawn = super::draw(&report, dir.path()).unwrap();
    assert_eq!(drawn.len(), 1);
    assert_eq!(drawn[0].file, "demo-sweep-1.svg");
    let svg = std::fs::read_to_string(dir.path().join(&drawn[0].file)).unwrap();
    assert!(svg.starts_with("<svg"), "{}", &svg[..80.min(svg.len())]);
    for text in ["threads", "tasks", "in flight", "ops/s"] {
        assert!(svg.contains(text), "the plot lacks {text}");
    }
}

#[test]
fn points_a_log_axis_cannot_place_are_drawn_past_its_ends_with_their_own_ticks() {
    let report = crate::report::sweep::tests::capacity_report();
    let dir = tempfile::tempdir().unwrap();
    let drawn = super::draw(&report, dir.path()).unwrap();
    assert_eq!(drawn.len(), 1);
    let svg = std::fs::read_to_string(dir.path().join(&drawn[0].file)).unwrap();
    let texts = texts(&svg);
    let x =
        |label: &str| texts.iter().find(|t| t.1 == label).unwrap_or_else(|| panic!("no text {label} in {texts:?}")).0;
    // The ticks, left to right: the rendezvous point, the scale's own, then unbounded.
    assert!(x("0") < x("1") && x("1") < x("1000") && x("1000") < x("unbounded"), "{texts:?}");
    // Each line's two points past the scale are ringed, and the legend says what a ring is.
    let rings = svg.matches(&format!(r#"r="{}""#, super::RING)).count();
    assert_eq!(rings, 2 * 2 + 1, "{svg}");
    x("off the scale, at its end");
}
