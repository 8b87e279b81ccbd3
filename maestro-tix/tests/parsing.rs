//! Parsing edge cases of report files: addresses, legacy records, corrupt and empty files, file
//! ordering — and the SPEC §1.4 worked fixture (`fixtures/test-tix-report.json`).

mod common;

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use base64::Engine as _;
use maestro_tix::analysis::{ClockFixer, phi, short_records, usage};
use maestro_tix::{Endpoint, Host, Installation, Record, ReportFile, Series, TixError, analyse_records};

fn record(ts: i64, t1: i64) -> Record {
    Record {
        day_timestamp: ts,
        t1,
        t2: t1 + 5_000_000,
        t3: t1 + 5_100_000,
        t4: t1 + 10_000_000,
        type_identifier: b'S',
        packet_size: 32,
    }
}

fn report_json(from: &str, message: &[u8]) -> String {
    serde_json::json!({
        "from": from, "to": "[0:0:0:0:0:0:0:0%0]:4500", "type": "LONG",
        "initialTimestamp": 1, "receptionTimestamp": 0, "sentTimestamp": 0, "finalTimestamp": 0,
        "publicKey": "AAAA", "message": base64::engine::general_purpose::STANDARD.encode(message),
        "signature": "AAAA", "userId": 23, "installationId": 17916
    })
    .to_string()
}

fn message(records: &[Record]) -> Vec<u8> {
    records.iter().flat_map(|r| r.to_bytes()).collect()
}

#[test]
fn record_round_trips_through_45_big_endian_bytes() {
    let r = Record {
        day_timestamp: 1_510_458_308,
        t1: 1,
        t2: -2,
        t3: 3,
        t4: i64::MAX,
        type_identifier: b'L',
        packet_size: 4448,
    };
    let b = r.to_bytes();
    assert_eq!(&b[0..8], &1_510_458_308i64.to_be_bytes());
    assert_eq!(b[8], b'L');
    assert_eq!(&b[9..13], &4448i32.to_be_bytes());
    assert_eq!(Record::from_bytes(&b), r);
}

#[test]
fn from_ipv4_ipv6_and_hostname() {
    let msg = message(&[record(100, 1)]);
    let v4 = ReportFile::parse(report_json("181.167.39.126:4501", &msg).as_bytes(), "a.json").unwrap();
    assert_eq!(v4.from.host, Host::Ip(IpAddr::V4(Ipv4Addr::new(181, 167, 39, 126))));
    assert_eq!(v4.from.port, Some(4501));
    assert_eq!(v4.host().to_string(), "181.167.39.126");

    let v6 = ReportFile::parse(report_json("[2001:db8::1]:4500", &msg).as_bytes(), "b.json").unwrap();
    assert_eq!(v6.from.host, Host::Ip("2001:db8::1".parse::<IpAddr>().unwrap()));
    assert_eq!(v6.from.port, Some(4500));
    assert_eq!(v6.host().to_string(), "2001:db8::1", "not `[2001` as the reference's split(':')");

    let named = ReportFile::parse(report_json("Client.Example.NET:4500", &msg).as_bytes(), "c.json").unwrap();
    assert_eq!(named.from.host, Host::Name("client.example.net".into()));
    assert_eq!(named.from.port, Some(4500));
    assert_eq!(named.from.host.ip(), None);

    let zoned = Endpoint::parse("[0:0:0:0:0:0:0:0%0]:4500").unwrap();
    assert_eq!(zoned.host, Host::Ip(IpAddr::V6(Ipv6Addr::UNSPECIFIED)));
    assert_eq!(zoned.zone.as_deref(), Some("0"));
    assert_eq!(zoned.to_string(), "[::%0]:4500");
    assert_eq!(Endpoint::parse("fe80::1").unwrap().port, None, "bare IPv6 literal");
    assert_eq!(Endpoint::parse("10.0.0.1").unwrap().port, None);

    for bad in ["", ":4500", "1.2.3.4:port", "1.2.3.4:70000", "[2001:db8::1", "[zz::1]:1", "300.1.1.1:80", "bad host:1"]
    {
        assert!(Endpoint::parse(bad).is_none(), "{bad:?} should not parse");
    }
    let err = ReportFile::parse(report_json("[2001:db8::1:4500", &msg).as_bytes(), "d.json").unwrap_err();
    assert!(matches!(err, TixError::InvalidFrom { .. }), "{err}");
    assert!(err.to_string().contains("d.json"), "{err}");
}

#[test]
fn legacy_46_byte_records_are_rejected_by_name() {
    // The condenser's 2017-04 CI fixture: 10 records of 46 bytes, UTF-16 type char S/L.
    let mut msg = Vec::new();
    for i in 0..10i64 {
        msg.extend_from_slice(&(1_490_000_000 + i).to_be_bytes());
        msg.extend_from_slice(&[0, if i % 2 == 0 { b'S' } else { b'L' }]);
        msg.extend_from_slice(&32i32.to_be_bytes());
        for t in 0..4i64 {
            msg.extend_from_slice(&(i * 1_000 + t).to_be_bytes());
        }
    }
    assert_eq!(msg.len(), 460);
    let err = ReportFile::parse(report_json("1.2.3.4:4500", &msg).as_bytes(), "legacy-report.json").unwrap_err();
    assert!(matches!(err, TixError::LegacyRecords { len: 460, .. }), "{err:?}");
    let text = err.to_string();
    assert!(text.contains("legacy-report.json") && text.contains("46-byte"), "{text}");
    assert!(text.starts_with("legacy 46-byte records in "), "lowercase message naming the file: {text}");
}

#[test]
fn wrong_record_length_is_rejected() {
    let mut msg = message(&[record(100, 1), record(101, 2)]);
    msg.pop();
    let err = ReportFile::parse(report_json("1.2.3.4:4500", &msg).as_bytes(), "short.json").unwrap_err();
    assert!(matches!(err, TixError::RecordLength { len: 89, .. }), "{err:?}");
    assert!(err.to_string().contains("short.json"));
}

#[test]
fn corrupt_base64_empty_message_and_empty_file() {
    let good = report_json("1.2.3.4:4500", &message(&[record(100, 1)]));
    let corrupt = good.replacen("\"message\":\"", "\"message\":\"!!not base64", 1);
    let err = ReportFile::parse(corrupt.as_bytes(), "corrupt.json").unwrap_err();
    assert!(matches!(err, TixError::Base64 { field: "message", .. }), "{err:?}");
    assert!(err.to_string().contains("corrupt.json"));

    let err = ReportFile::parse(report_json("1.2.3.4:4500", &[]).as_bytes(), "nothing.json").unwrap_err();
    assert!(matches!(err, TixError::EmptyMessage { .. }), "{err:?}");

    let err = ReportFile::parse(b"", "empty.json").unwrap_err();
    assert!(matches!(err, TixError::Json { .. }), "{err:?}");
    assert!(err.to_string().starts_with("invalid report json in empty.json"), "{err}");

    let missing = good.replace("\"userId\":23,", "");
    let err = ReportFile::parse(missing.as_bytes(), "missing.json").unwrap_err();
    assert!(err.to_string().contains("userId"), "names the missing key: {err}");

    let dir = tempfile::tempdir().unwrap();
    let err = ReportFile::read(dir.path().join("missing.json")).unwrap_err();
    assert!(matches!(err, TixError::Io { .. }) && err.is_retriable());
}

#[test]
fn installation_orders_by_first_record_and_sets_bad_files_aside() {
    let dir = tempfile::tempdir().unwrap();
    let write = |name: &str, body: &str| std::fs::write(dir.path().join(name), body).unwrap();
    // Lexicographic order would put 95920… after 40612…; timestamps say otherwise.
    write("95920000000000-tix-log.json", &report_json("1.2.3.4:1", &message(&[record(1_000, 1)])));
    write("40612000000000-tix-log.json", &report_json("1.2.3.4:1", &message(&[record(2_000, 1)])));
    write("empty.json", "");
    write("notes.txt", "ignored");
    std::fs::create_dir(dir.path().join("failed-results")).unwrap();
    let inst = Installation::open(dir.path()).unwrap();
    let names: Vec<String> = inst.reports().iter().map(ReportFile::file_name).collect();
    assert_eq!(names, ["95920000000000-tix-log.json", "40612000000000-tix-log.json"]);
    assert_eq!(inst.rejected().len(), 1);
    assert!(inst.rejected()[0].path.ends_with("empty.json"));
}

#[test]
fn host_change_drops_the_older_files_and_reports_them() {
    let dir = tempfile::tempdir().unwrap();
    // 20 files of 60 records, one per minute; the host changes at file 5.
    for f in 0..20i64 {
        let recs: Vec<Record> = (0..60).map(|i| record(1_000_000 + f * 60 + i, (f * 60 + i) * 1_000_000_000)).collect();
        let from = if f < 5 { "10.0.0.1:4500" } else { "[2001:db8::7]:4500" };
        std::fs::write(
            dir.path().join(format!("tix-report-{}.json", 1_000_000 + f * 60)),
            report_json(from, &message(&recs)),
        )
        .unwrap();
    }
    let inst = Installation::open(dir.path()).unwrap();
    let sels: Vec<_> = inst.select_batches(&Default::default()).collect();
    assert_eq!(sels.len(), 0, "15 files of 60 = 900 < 1084 after the change");
    let end = inst.select_batches(&Default::default()).finish();
    assert_eq!(end.dropped.len(), 5);
    assert!(
        matches!(&end.dropped[0].reason, maestro_tix::DropReason::HostChanged { from, to } if from == "10.0.0.1" && to == "2001:db8::7")
    );
    assert_eq!(end.remaining.len(), 15);
}

#[test]
fn span_and_degenerate_data_are_typed_errors() {
    let cfg = Default::default();
    assert!(matches!(analyse_records(&[], &cfg), Err(TixError::TooFewObservations { .. })));
    let short: Vec<Record> = (0..300).map(|i| record(1_000 + i, i * 1_000_000_000)).collect();
    assert!(matches!(analyse_records(&short, &cfg), Err(TixError::SpanTooShort { span: 299, required: 600 })));
    // Identical delays everywhere: every bin has zero width.
    let flat: Vec<Record> = (0..1200).map(|i| record(1_000 + i, i * 1_000_000_000)).collect();
    let err = analyse_records(&flat, &cfg).unwrap_err();
    assert!(matches!(err, TixError::ZeroWidthBin { series: Series::Rtt, bin: 0 }), "{err:?}");
    assert!(err.is_analysis_error() && !err.is_retriable());
}

/// SPEC §1.4 worked fixture: histogram, anchors and usage of `tests/test-tix-report.json`.
#[test]
fn worked_fixture_test_tix_report() {
    let path = common::data_dir().join("fixtures/test-tix-report.json");
    let rep = ReportFile::read(&path).unwrap();
    assert_eq!((rep.records.len(), rep.user_id, rep.installation_id), (59, 6, 33));
    assert_eq!(rep.from.to_string(), "181.167.39.126:4501");
    let s = short_records(&rep.records);
    assert_eq!(s.len(), 59);
    let err = analyse_records(&rep.records, &Default::default()).unwrap_err();
    assert!(matches!(err, TixError::SpanTooShort { .. }), "{err:?}");

    let fixer = ClockFixer::new(&s, 0.5).unwrap();
    let h = &fixer.rtt_histogram;
    assert_eq!(h.bins.iter().map(|b| b.len).collect::<Vec<_>>(), [8, 8, 8, 8, 8, 8, 11]);
    let mids: Vec<f64> = h.bins.iter().map(|b| b.mid as f64).collect();
    assert_eq!(mids, [14e6, 19e6, 26.5e6, 50e6, 107e6, 187.5e6, 744e6]);
    assert_eq!(h.probabilities[0], 4244.3125);
    assert_eq!((h.mode_index, h.mode, h.threshold), (0, 14_000_000.0, 19_000_000.0));
    assert_eq!(fixer.anchors.len(), 8);
    for (_, p) in &fixer.anchors {
        assert!((-25_199_871_500_000.0..=-25_199_869_500_000.0).contains(p), "{p}");
    }
    let up: Vec<f64> = s.iter().map(|r| fixer.upstream(r)).collect();
    let down: Vec<f64> = s.iter().map(|r| fixer.downstream(r)).collect();
    let (u_up, h_up) = usage(&up, Series::Upstream, 0.5).unwrap();
    let (u_down, h_down) = usage(&down, Series::Downstream, 0.5).unwrap();
    assert_eq!((h_up.mode, h_up.threshold), (7_000_000.0, 8_500_000.0));
    assert_eq!((h_down.mode, h_down.threshold), (5_875_000.0, 7_250_000.0));
    assert_eq!(u_up, 0.8867924528301887);
    assert_eq!(u_down, 0.8596491228070176);
    // phi_fn is constant before the first anchor and interpolates between anchors.
    let first = fixer.anchors[0];
    assert_eq!(fixer.phi_at(first.0 - 1), first.1);
    let rtt_min = s.iter().min_by_key(|r| r.rtt()).unwrap();
    assert!(fixer.anchors.iter().any(|a| a.1 == phi(rtt_min)), "the lowest-RTT record is an anchor");
}
