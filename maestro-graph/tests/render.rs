//! A demo SVG renders with `rsvg-convert` and the PNG is not blank where nodes are.

mod common;

use std::process::Command;

use common::data;
use maestro_graph::svg::geometry::{NODE_H, NODE_W, cal};
use maestro_graph::{build_business_graph, load_demo_dir};

fn rsvg_convert() -> &'static str {
    match Command::new("rsvg-convert").arg("--version").output() {
        Ok(o) if o.status.success() => "rsvg-convert",
        _ => panic!("rsvg-convert not found: install it with apt-get install -y librsvg2-bin"),
    }
}

#[test]
fn demo_svg_renders_non_blank_at_node_positions() {
    let tool = rsvg_convert();
    let d = load_demo_dir(data("demo")).unwrap();
    let def = d.graphs.iter().find(|g| g.id == "graph-maestro-server-architecture").unwrap();
    let r = build_business_graph(&d.inventory, def).result.unwrap();
    let dir = std::path::PathBuf::from(env!("CARGO_TARGET_TMPDIR"));
    let svg_path = dir.join("render-maestro.svg");
    let png_path = dir.join("render-maestro.png");
    std::fs::write(&svg_path, &r.drawing.svg).unwrap();
    let out = Command::new(tool).arg("-o").arg(&png_path).arg(&svg_path).output().unwrap();
    assert!(out.status.success(), "rsvg-convert failed: {}", String::from_utf8_lossy(&out.stderr));

    let decoder = png::Decoder::new(std::io::BufReader::new(std::fs::File::open(&png_path).unwrap()));
    let mut reader = decoder.read_info().unwrap();
    let mut buf = vec![0; reader.output_buffer_size().unwrap()];
    let info = reader.next_frame(&mut buf).unwrap();
    assert_eq!(info.color_type, png::ColorType::Rgba, "rsvg-convert writes RGBA");
    let (w, h) = (info.width as f64, info.height as f64);
    let (vx, vy, vw, vh) = r.drawing.view_box;
    assert!((w - vw).abs() <= 1.0 && (h - vh).abs() <= 1.0, "png {w}x{h} vs viewBox {vw}x{vh}");
    let pixel = |x: f64, y: f64| -> [u8; 4] {
        let px = ((x - vx) * w / vw) as usize;
        let py = ((y - vy) * h / vh) as usize;
        let i = (py * info.width as usize + px) * 4;
        [buf[i], buf[i + 1], buf[i + 2], buf[i + 3]]
    };
    // the floor tile centre of every node is painted (grey tile under the icon)
    for &(n, x, y) in &r.drawing.nodes {
        let p = pixel(x + NODE_W / 2.0, y + NODE_H - cal(NODE_W / 2.0));
        assert!(p[3] > 0, "node {n}: transparent pixel {p:?}");
        assert!(p[..3] != [255, 255, 255], "node {n}: white pixel {p:?}");
    }
    // and the image is not one flat colour
    let painted = buf.chunks(4).filter(|p| p[3] > 0).count();
    let total = buf.len() / 4;
    assert!(painted > total / 50, "only {painted} of {total} pixels painted");
    assert!(painted < total, "everything painted");
}
