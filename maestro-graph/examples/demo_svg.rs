//! Run with: cargo run -p maestro-graph --example demo_svg -- <out-dir>
//!
//! Builds the six demo graphs of `tests/data/demo` and writes `<graph-id>.svg` files.

use std::path::PathBuf;

use maestro_graph::{build_business_graph, load_demo_dir};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let out = PathBuf::from(std::env::args().nth(1).unwrap_or_else(|| ".".into()));
    std::fs::create_dir_all(&out)?;
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/data/demo");
    let demo = load_demo_dir(dir)?;
    for w in &demo.warnings {
        eprintln!("warning: {w}");
    }
    for def in &demo.graphs {
        let job = build_business_graph(&demo.inventory, def);
        println!("{}: {:?} {}", def.id, job.status, job.msg);
        if let Some(r) = job.result {
            println!(
                "  {} apps, {} edges, density {}, servers {}",
                r.info.apps_total, r.info.connections, r.info.density_text, r.info.servers_total
            );
            std::fs::write(out.join(format!("{}.svg", def.id)), &r.drawing.svg)?;
        }
    }
    Ok(())
}
