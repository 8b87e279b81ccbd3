//! IP → AS localisation over the sample tables in `tests/data/as/`.

mod common;

use std::net::IpAddr;
use std::time::{Duration, Instant};

use maestro_tix::TixError;
use maestro_tix::asn::{AsNames, AsResolver, Localisation, Pfx2AsTable, ResolverMode, UnknownReason, is_private};

fn resolver() -> AsResolver {
    let dir = common::data_dir().join("as");
    let table = Pfx2AsTable::load(dir.join("pfx2as-sample.txt")).expect("pfx2as");
    let names = AsNames::load(dir.join("as-names-sample.txt")).expect("names");
    assert_eq!(table.len(), 12);
    AsResolver::new(table, names)
}

fn ip(s: &str) -> IpAddr {
    s.parse().unwrap()
}

fn asn_of(l: &Localisation) -> Option<(u32, &str)> {
    match l {
        Localisation::As { asn, prefix, .. } => Some((*asn, prefix.as_str())),
        _ => None,
    }
}

#[test]
fn longest_prefix_match_ipv4_and_ipv6() {
    let r = resolver();
    assert_eq!(asn_of(&r.resolve(ip("181.165.116.94"))), Some((10481, "181.165.116.0/22")), "/22 beats /16 and /14");
    assert_eq!(asn_of(&r.resolve(ip("181.165.1.1"))), Some((7303, "181.165.0.0/16")));
    assert_eq!(asn_of(&r.resolve(ip("181.166.0.1"))), Some((7303, "181.164.0.0/14")));
    assert_eq!(asn_of(&r.resolve(ip("190.17.134.135"))), Some((10318, "190.16.0.0/12")));
    assert_eq!(r.resolve(ip("190.17.134.135")).provider_name(), "Cablevision S.A.");
    assert_eq!(asn_of(&r.resolve(ip("2800:810:1ff::1"))), Some((10481, "2800:810:100::/40")));
    assert_eq!(asn_of(&r.resolve(ip("2800:810:200::1"))), Some((7303, "2800:810::/32")));
    assert_eq!(asn_of(&r.resolve(ip("::ffff:8.8.8.8"))), Some((15169, "8.8.8.0/24")), "v4-mapped v6");
    match r.resolve(ip("45.64.1.1")) {
        Localisation::As { asn, origins, name, .. } => {
            assert_eq!((asn, origins, name.as_deref()), (64500, vec![64500, 64501], Some("Documentation AS")));
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn private_and_unrouted_addresses_are_unknown() {
    let r = resolver();
    for a in [
        "192.168.1.101",
        "10.1.2.3",
        "172.16.0.1",
        "172.31.255.255",
        "127.0.0.1",
        "100.64.0.1",
        "169.254.1.1",
        "fd00::1",
        "fe80::1",
        "::1",
    ] {
        assert!(is_private(ip(a)), "{a}");
        assert_eq!(r.resolve(ip(a)), Localisation::Unknown { reason: UnknownReason::Private }, "{a}");
    }
    assert!(!is_private(ip("172.32.0.1")), "the reference's string compare got 172.32 wrong; this does not");
    assert_eq!(r.resolve(ip("203.0.114.1")), Localisation::Unknown { reason: UnknownReason::NotRouted });
    assert_eq!(r.resolve(ip("203.0.114.1")).provider_name(), "UNKNOWN");
}

#[test]
fn cache_and_ttl() {
    let r = resolver().with_ttl(Duration::from_secs(60));
    let t0 = Instant::now();
    assert_eq!(r.cached(), 0);
    let a = r.resolve_at(ip("1.0.0.1"), t0);
    let b = r.resolve_at(ip("1.0.0.1"), t0 + Duration::from_secs(30));
    assert_eq!(a, b);
    assert_eq!(r.cached(), 1);
    r.resolve_at(ip("1.0.0.2"), t0 + Duration::from_secs(90));
    assert_eq!(r.cached(), 2);
    assert_eq!(r.resolve_at(ip("1.0.0.1"), t0 + Duration::from_secs(120)).provider_name(), "CLOUDFLARENET");
}

#[test]
fn pass_through_mode() {
    let r = AsResolver::pass_through();
    assert_eq!(r.mode(), ResolverMode::PassThrough);
    let l = r.resolve(ip("190.17.134.135"));
    assert_eq!(l, Localisation::PassThrough { ip: ip("190.17.134.135") });
    assert_eq!(l.provider_name(), "190.17.134.135");
    assert_eq!(r.cached(), 0);
}

#[test]
fn table_formats_and_errors() {
    let t = Pfx2AsTable::parse("1.0.0.0/24 13335\n\n# comment\n2001:db8::/32 AS64500\n", "inline").unwrap();
    assert_eq!(t.len(), 2);
    assert!(t.lookup(ip("1.0.0.200")).is_some());
    for (bad, why) in
        [("1.0.0.0\t33\t1", "length"), ("1.0.0.0/24", "fields"), ("1.0.0.0\t24\tx", "asn"), ("1.0.0\t24\t1", "address")]
    {
        let e = Pfx2AsTable::parse(&format!("8.8.8.0\t24\t15169\n{bad}\n"), "t.txt").unwrap_err();
        assert!(matches!(&e, TixError::AsTable { line: 2, .. }), "{why}: {e:?}");
        assert!(e.to_string().starts_with("invalid line 2 of t.txt"), "{e}");
    }
    assert!(AsNames::parse("notanumber\tX\n", "n.txt").is_err());
    assert_eq!(AsNames::parse("AS7\tSeven\n", "n.txt").unwrap().get(7), Some("Seven"));
}
