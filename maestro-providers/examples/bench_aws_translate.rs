//! Run with: `cargo run --release -p maestro-providers --features aws --example bench_aws_translate [N]`
//!
//! Translation throughput of the AWS mapping rules on N (default 100 000) synthetic
//! `DescribeInstances` items, on one thread. Prints items per wall-clock second and, on Linux,
//! per second of this thread's CPU time (`/proc/thread-self/schedstat`), which stays meaningful
//! on a loaded machine.

use std::time::Instant;

use maestro_core::{Scope, Translator};
use maestro_providers::aws::AwsTranslator;
use serde_json::{Value, json};

fn item(i: usize) -> Value {
    let types = ["t3.micro", "m5.large", "c5.xlarge", "r5.2xlarge"];
    json!({
        "@call": "DescribeInstances",
        "instanceId": format!("i-{i:017x}"),
        "imageId": "ami-12c6146b",
        "instanceState": {"code": "16", "name": if i.is_multiple_of(10) { "stopped" } else { "running" }},
        "privateDnsName": format!("ip-10-0-{}-{}.ec2.internal", (i / 250) % 256, i % 250),
        "dnsName": "",
        "keyName": "deploy",
        "instanceType": types[i % types.len()],
        "launchTime": "2026-11-23T23:53:07.000Z",
        "placement": {"availabilityZone": "us-east-1a", "tenancy": "default", "groupName": ""},
        "monitoring": {"state": "disabled"},
        "subnetId": format!("subnet-{:017x}", i % 8),
        "vpcId": format!("vpc-{:017x}", i % 2),
        "privateIpAddress": format!("10.0.{}.{}", (i / 250) % 256, i % 250),
        "architecture": "x86_64",
        "rootDeviceType": "ebs",
        "rootDeviceName": "/dev/sda1",
        "virtualizationType": "hvm",
        "hypervisor": "xen",
        "ebsOptimized": "false",
        "sourceDestCheck": "true",
        "stateReason": {"code": "", "message": ""},
        "blockDeviceMapping": [
            {"deviceName": "/dev/sda1", "ebs": {"volumeId": format!("vol-{i:017x}"), "status": "attached",
             "attachTime": "2026-11-23T23:53:07.000Z", "deleteOnTermination": "true"}}
        ],
        "groupSet": [{"groupId": format!("sg-{:017x}", i % 4), "groupName": "web"}],
        "tagSet": [
            {"key": "Name", "value": format!("web-server-{i}")},
            {"key": "Environment", "value": "production"},
            {"key": "Role", "value": "web"}
        ]
    })
}

/// This thread's CPU time in nanoseconds (Linux), if available.
fn thread_cpu_ns() -> Option<u64> {
    let s = std::fs::read_to_string("/proc/thread-self/schedstat").ok()?;
    s.split_whitespace().next()?.parse().ok()
}

fn main() {
    let n: usize = std::env::args().nth(1).and_then(|a| a.parse().ok()).unwrap_or(100_000);
    let items: Vec<Value> = (0..n).map(item).collect();
    let t = AwsTranslator::new("bench", "AWS bench", false).expect("rules compile");
    let scope = Scope::new("t", "bench", "server-list", Some("us-east-1".into()));
    // Warm-up (compiles the rules, loads the catalogue).
    let _ = t.translate(&scope, &items[0]).expect("translates");
    for round in 1..=3 {
        let start = Instant::now();
        let cpu0 = thread_cpu_ns();
        let mut drafts = 0usize;
        let mut relations = 0usize;
        for it in &items {
            let d = t.translate(&scope, it).expect("translates");
            relations += d.iter().map(|d| d.doc.relations.len()).sum::<usize>();
            drafts += d.len();
        }
        let secs = start.elapsed().as_secs_f64();
        let cpu = match (cpu0, thread_cpu_ns()) {
            (Some(a), Some(b)) if b > a => format!(", {:.0} items per CPU-second", n as f64 / ((b - a) as f64 / 1e9)),
            _ => String::new(),
        };
        println!(
            "round {round}: {n} DescribeInstances items → {drafts} drafts ({relations} relations) in {secs:.3} s = {:.0} items/s wall (1 thread){cpu}",
            n as f64 / secs
        );
    }
}
