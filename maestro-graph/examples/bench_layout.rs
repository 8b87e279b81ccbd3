//! Run with: cargo run --release -p maestro-graph --example bench_layout
//!
//! Times layout + SVG of the six demo graphs and of a synthetic 700-node / 1,000-edge
//! dependency graph, reports connector crossings, and with `-- --dot` (when `dot` is
//! installed) times Graphviz on the same synthetic graph.

use std::path::PathBuf;
use std::process::Command;
use std::time::{Duration, Instant};

use maestro_graph::layered::{LayeredOptions, layered_layout};
use maestro_graph::lookup::{MAX_LOOKUP_DEPTH, graph_lookup};
use maestro_graph::metrics::polyline_crossings;
use maestro_graph::{
    App, BusinessGraph, Grid, LayoutInput, MemoryInventory, build_business_graph, draw_business, load_demo_dir,
};

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

/// Deterministic pseudo-random numbers (64-bit LCG).
struct Lcg(u64);

impl Lcg {
    fn next(&mut self, n: usize) -> usize {
        self.0 = self.0.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        ((self.0 >> 33) as usize) % n
    }
}

/// 700 apps: a random spanning tree (699 edges, parent among the previous 8..40 apps)
/// plus 301 extra dependencies (mostly forward, some back edges / cycles).
fn synthetic(nodes: usize, edges: usize) -> (MemoryInventory, Vec<String>, Vec<(usize, usize)>) {
    let mut rng = Lcg(42);
    let mut deps: Vec<Vec<usize>> = vec![Vec::new(); nodes];
    let mut pairs = Vec::new();
    for i in 1..nodes {
        let lo = i.saturating_sub(40);
        let p = lo + rng.next(i - lo);
        deps[p].push(i);
        pairs.push((p, i));
    }
    while pairs.len() < edges {
        let a = rng.next(nodes);
        let b = rng.next(nodes);
        if a == b || deps[a].contains(&b) {
            continue;
        }
        deps[a].push(b);
        pairs.push((a, b));
    }
    const FAMILIES: [&str; 6] = ["Application", "Database", "Broker", "Cache", "Loadbalance", "CDN"];
    let mut inv = MemoryInventory::new();
    for (i, d) in deps.iter().enumerate() {
        let mut a = App::new(format!("app{i:03}"), format!("app {i}")).with_family(FAMILIES[i % FAMILIES.len()]);
        for &t in d {
            a = a.with_dep(&format!("app{t:03}"), Some("tcp"));
        }
        inv.add_app(a);
    }
    (inv, vec!["app000".into()], pairs)
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/data/demo");
    let demo = load_demo_dir(dir)?;
    println!("== demo graphs (median of 50 runs: lookup + graph + layout + info + SVG)");
    let mut total = Duration::ZERO;
    for def in &demo.graphs {
        let mut times = Vec::new();
        let mut last = None;
        for _ in 0..50 {
            let t = Instant::now();
            let job = build_business_graph(&demo.inventory, def);
            times.push(t.elapsed());
            last = job.result;
        }
        let r = last.expect("finished");
        let m = median(times);
        total += m;
        println!(
            "{:<40} {:>3} apps {:>3} edges {:>8.3} ms  crossings {}",
            def.id,
            r.graph.node_count(),
            r.graph.edge_count(),
            m.as_secs_f64() * 1e3,
            polyline_crossings(&r.drawing.connectors)
        );
    }
    println!("{:<40} {:>8.3} ms (all six)", "total", total.as_secs_f64() * 1e3);

    println!("== synthetic 700 nodes / 1,000 edges");
    let (inv, entries, pairs) = synthetic(700, 1000);
    let t0 = Instant::now();
    let (lookups, _) = graph_lookup(&inv, &entries, MAX_LOOKUP_DEPTH)?;
    let g = BusinessGraph::from_lookup(&lookups);
    let t1 = Instant::now();
    let ix: Vec<usize> = entries.iter().filter_map(|e| g.node_index(e)).collect();
    let grid = Grid::layout(&LayoutInput::from_graph(&g), &ix);
    let t2 = Instant::now();
    let d = draw_business(&g, &grid)?;
    let t3 = Instant::now();
    println!(
        "nodes {} edges {} columns {} | lookup+graph {:.1} ms, layout {:.1} ms, svg {:.1} ms, total {:.1} ms, svg {} KB",
        g.node_count(),
        g.edge_count(),
        grid.column_count(),
        (t1 - t0).as_secs_f64() * 1e3,
        (t2 - t1).as_secs_f64() * 1e3,
        (t3 - t2).as_secs_f64() * 1e3,
        (t3 - t0).as_secs_f64() * 1e3,
        d.svg.len() / 1024
    );
    let tc = Instant::now();
    let crossings = polyline_crossings(&d.connectors);
    println!("connector crossings: {crossings} (counted in {:.1} ms)", tc.elapsed().as_secs_f64() * 1e3);

    // the layered (Sugiyama-style) layout of the infra/network graphs on the same graph
    let tl = Instant::now();
    let lay = layered_layout(700, &pairs, LayeredOptions::default());
    println!(
        "layered layout: {:.1} ms, {} layers, {} cycle edges reversed, crossings {} -> {} after barycentric sweeps",
        tl.elapsed().as_secs_f64() * 1e3,
        lay.layers,
        lay.reversed.len(),
        lay.initial_crossings,
        lay.crossings
    );

    // Graphviz dot on the same graph, with `-- --dot` (slow: about a minute here)
    if !std::env::args().any(|a| a == "--dot") {
        println!("graphviz dot: skipped (pass `-- --dot` to compare)");
        return Ok(());
    }
    let dot_path = std::env::temp_dir().join("maestro-bench-synthetic.dot");
    let mut dot = String::from("digraph G {\n");
    for (a, b) in &pairs {
        dot.push_str(&format!("  a{a} -> a{b};\n"));
    }
    dot.push_str("}\n");
    std::fs::write(&dot_path, dot)?;
    let t = Instant::now();
    match Command::new("dot").arg("-v").arg("-Tsvg").arg("-o").arg("/dev/null").arg(&dot_path).output() {
        Ok(out) if out.status.success() => {
            let el = t.elapsed();
            let err = String::from_utf8_lossy(&out.stderr);
            let crossings = err
                .lines()
                .rfind(|l| l.contains("crossings"))
                .unwrap_or("(no crossing line in dot -v output)")
                .trim()
                .to_string();
            println!("graphviz dot -Tsvg: {:.1} ms; {crossings}", el.as_secs_f64() * 1e3);
        }
        _ => println!("graphviz dot not available (apt-get install -y graphviz)"),
    }
    Ok(())
}
