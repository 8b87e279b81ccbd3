use std::time::{Duration, SystemTime};

use maestro_core::{ConfigErrors, Kind, ProviderErrorKind, Scope, Translator};
use reqwest::Method;
use serde_json::{Value, json};

use super::calls::{TASKS, task};
use super::client::{AwsRequest, Credentials, classify, sign_request};
use super::rules::{Context, Rule, apply, compile, compile_map};
use super::*;

const CTX: Context<'static> =
    Context { region: Some("us-east-1"), connection: "conn-1", datacenter: "AWS prod", provider: "AWS", compat: false };
const COMPAT: Context<'static> = Context { compat: true, ..CTX };

fn rule(v: Value) -> Rule {
    compile(&v, "test").unwrap()
}

// ---------------------------------------------------------------- rule kinds

#[test]
fn set_v_is_literal() {
    assert_eq!(rule(json!({"setV": {"a": [1, false]}})).eval(&json!({}), &CTX), Some(json!({"a": [1, false]})));
}

#[test]
fn switch_takes_first_present_alternative_and_keeps_falsy_values() {
    let r = rule(json!({"switch": "a.b|c|d"}));
    assert_eq!(r.eval(&json!({"a": {"b": "x"}, "c": "y"}), &CTX), Some(json!("x")));
    assert_eq!(r.eval(&json!({"a": {"b": ""}, "c": "y"}), &CTX), Some(json!("y")));
    assert_eq!(r.eval(&json!({"c": false, "d": "z"}), &CTX), Some(json!(false)), "false is kept");
    assert_eq!(r.eval(&json!({"c": 0}), &CTX), Some(json!(0)), "0 is kept");
    assert_eq!(r.eval(&json!({"c": null}), &CTX), None);
    // Compat: the original's truthiness.
    assert_eq!(r.eval(&json!({"c": false, "d": "z"}), &COMPAT), Some(json!("z")));
    assert_eq!(r.eval(&json!({"c": 0}), &COMPAT), None);
    // Numeric segments index lists.
    assert_eq!(rule(json!({"switch": "l.1.v"})).eval(&json!({"l": [{"v": 1}, {"v": 2}]}), &CTX), Some(json!(2)));
}

#[test]
fn switch_capitalized_recases() {
    let r = rule(json!({"switchCapitalized": "s"}));
    assert_eq!(r.eval(&json!({"s": "rUNNING"}), &CTX), Some(json!("Running")));
    assert_eq!(rules::capitalize("élan VITAL"), "Élan vital");
}

#[test]
fn switch_options_maps_with_default() {
    let r = rule(
        json!({"switchOptions": {"field": "s.n", "options": {"running": "Active", "16": "code"}, "default": true}}),
    );
    assert_eq!(r.eval(&json!({"s": {"n": "running"}}), &CTX), Some(json!("Active")));
    assert_eq!(r.eval(&json!({"s": {"n": 16}}), &CTX), Some(json!("code")));
    assert_eq!(r.eval(&json!({"s": {"n": "other"}}), &CTX), Some(json!(true)));
    let no_default = rule(json!({"switchOptions": {"field": "s", "options": {"a": false}}}));
    assert_eq!(no_default.eval(&json!({"s": "a"}), &CTX), Some(json!(false)), "a false option is kept");
    assert_eq!(no_default.eval(&json!({"s": "b"}), &CTX), None);
}

#[test]
fn arr_catcher_matches_case_insensitively_and_keeps_the_value_case() {
    let item = json!({"tagSet": [{"key": "Env", "value": "x"}, {"key": "NAME", "value": "web-SERVER-01"}]});
    let r = rule(json!({"arrCatcher": {"field": "tagSet", "sKey": "key", "s": "name", "catcher": "value"}}));
    assert_eq!(r.eval(&item, &CTX), Some(json!("web-SERVER-01")), "tag values are not re-cased");
    assert_eq!(r.eval(&item, &COMPAT), Some(json!("Web-server-01")), "compat re-cases like the original");
    assert_eq!(r.eval(&json!({"tagSet": []}), &CTX), None);
    // A single element (XML with one child) works as a list.
    assert_eq!(r.eval(&json!({"tagSet": {"key": "name", "value": "solo"}}), &CTX), Some(json!("solo")));
}

#[test]
fn batch_builds_sub_objects_without_missing_entries() {
    let r = rule(json!({"batch": {"a": {"switch": "x"}, "b": {"switch": "missing"}, "c|d": {"setV": 0}}}));
    assert_eq!(r.eval(&json!({"x": "1"}), &CTX), Some(json!({"a": "1", "c": 0, "d": 0})));
}

#[test]
fn datacenter_block_has_connection_and_region() {
    let r = rule(json!({"datacenter": {"zone": {"switch": "z"}, "type": {"setV": "Virtual"}}}));
    assert_eq!(
        r.eval(&json!({"z": "us-east-1a"}), &CTX),
        Some(
            json!({"name": "AWS prod", "provider": "AWS", "region": "us-east-1", "zone": "us-east-1a", "type": "Virtual"})
        )
    );
    let global = Context { region: None, ..CTX };
    assert_eq!(r.eval(&json!({}), &global), Some(json!({"name": "AWS prod", "provider": "AWS", "type": "Virtual"})));
}

#[test]
fn fct_tags_lists_pairs_and_skips_empty_keys() {
    let r = rule(json!({"fctTags": {"field": "Tags", "key": "Key", "value": "Value"}}));
    let item = json!({"Tags": [{"Key": "a", "Value": "1"}, {"Key": "", "Value": "x"}, {"Key": "b", "Value": ""}]});
    assert_eq!(r.eval(&item, &CTX), Some(json!([{"key": "a", "value": "1"}, {"key": "b", "value": ""}])));
}

#[test]
fn each_list_count_and_typed_rules() {
    let item = json!({"bdm": [{"d": "/dev/a", "ebs": {"v": "vol-1", "del": "true"}}, {"d": "/dev/b", "ebs": {"v": "vol-2", "del": "false"}}],
                      "size": "8", "ratio": "0.5", "flag": "false"});
    let each = rule(json!({"each": {"field": "bdm", "map": {"dev": {"switch": "d"}, "del": {"bool": "ebs.del"}}}}));
    assert_eq!(each.eval(&item, &CTX), Some(json!([{"dev": "/dev/a", "del": true}, {"dev": "/dev/b", "del": false}])));
    assert_eq!(rule(json!({"list": "bdm.ebs.v"})).eval(&item, &CTX), Some(json!(["vol-1", "vol-2"])));
    assert_eq!(rule(json!({"countItem": "bdm"})).eval(&item, &CTX), Some(json!(2)));
    assert_eq!(rule(json!({"int": "size"})).eval(&item, &CTX), Some(json!(8)));
    assert_eq!(rule(json!({"float": "ratio"})).eval(&item, &CTX), Some(json!(0.5)));
    assert_eq!(rule(json!({"bool": "flag"})).eval(&item, &CTX), Some(json!(false)));
    assert_eq!(rule(json!({"int": "flag"})).eval(&item, &CTX), None);
}

#[test]
fn template_owner_accountant_first_and_merge() {
    let item = json!({"n": "t1"});
    assert_eq!(rule(json!({"template": "{@region}/{n}"})).eval(&item, &CTX), Some(json!("us-east-1/t1")));
    assert_eq!(rule(json!({"template": "{@region}/{missing}"})).eval(&item, &CTX), None);
    assert_eq!(
        rule(json!({"owner": true})).eval(&item, &CTX),
        Some(json!({"refs": "connections", "name": "AWS prod", "_id": "conn-1"}))
    );
    assert_eq!(rule(json!({"accountant": true})).eval(&item, &CTX), Some(json!(["conn-1"])));
    assert_eq!(
        rule(json!({"first": [{"switch": "x"}, {"setV": "fallback"}]})).eval(&item, &CTX),
        Some(json!("fallback"))
    );
    let rules =
        compile_map(&json!({"m": {"merge": {"batch": {"a": {"setV": 1}}}}, "k1|k2": {"switch": "n"}}), "t").unwrap();
    let mut out = serde_json::Map::new();
    apply(&rules, &item, &CTX, &mut out);
    assert_eq!(Value::Object(out), json!({"a": 1, "k1": "t1", "k2": "t1"}));
}

#[test]
fn bad_rules_are_reported_with_their_path() {
    let e = compile(&json!({"nope": 1}), "f.yaml: fields.x").unwrap_err();
    assert!(e.contains("f.yaml: fields.x") && e.contains("unknown rule `nope`"), "{e}");
    let e = compile(&json!({"arrCatcher": {"field": "t"}}), "r").unwrap_err();
    assert!(e.contains("missing `sKey`"), "{e}");
    let e = compile(&json!({"template": "{@nope}"}), "r").unwrap_err();
    assert!(e.contains("@nope"), "{e}");
}

#[test]
fn every_embedded_rule_file_compiles_and_every_call_has_one() {
    let rules = translate_rules();
    for t in TASKS {
        for c in t.calls {
            assert!(rules.contains_key(c.name), "no rule file for call {}", c.name);
        }
    }
    assert_eq!(rules.len(), RULE_FILES.len());
}

fn translate_rules() -> &'static std::collections::HashMap<String, rules::RuleSet> {
    super::translate::rules().expect("rules compile")
}

// ---------------------------------------------------------------- the two mapping tables of SPEC §2.6

fn instance_xml() -> &'static str {
    r#"<DescribeInstancesResponse xmlns="http://ec2.amazonaws.com/doc/2016-11-15"><reservationSet><item>
    <reservationId>r-1</reservationId><instancesSet><item>
      <instanceId>i-0abc</instanceId><imageId>ami-1</imageId>
      <instanceState><code>16</code><name>running</name></instanceState>
      <privateDnsName>ip-10-0-0-4.ec2.internal</privateDnsName><dnsName>ec2-1-2-3-4.compute.amazonaws.com</dnsName>
      <keyName>deploy</keyName><instanceType>m5.large</instanceType><launchTime>2026-01-01T00:00:00.000Z</launchTime>
      <placement><availabilityZone>us-east-1a</availabilityZone></placement><monitoring><state>disabled</state></monitoring>
      <subnetId>subnet-1</subnetId><vpcId>vpc-1</vpcId><privateIpAddress>10.0.0.4</privateIpAddress><ipAddress>1.2.3.4</ipAddress>
      <architecture>x86_64</architecture><rootDeviceType>ebs</rootDeviceType><virtualizationType>hvm</virtualizationType>
      <hypervisor>xen</hypervisor><ebsOptimized>false</ebsOptimized><stateReason><code/><message/></stateReason>
      <blockDeviceMapping><item><deviceName>/dev/sda1</deviceName><ebs><volumeId>vol-1</volumeId><status>attached</status>
        <attachTime>2026-01-01T00:00:00.000Z</attachTime><deleteOnTermination>true</deleteOnTermination></ebs></item></blockDeviceMapping>
      <groupSet><item><groupId>sg-1</groupId><groupName>web</groupName></item><item><groupId>sg-2</groupId><groupName>ssh</groupName></item></groupSet>
      <iamInstanceProfile><arn>arn:aws:iam::1:instance-profile/web</arn></iamInstanceProfile>
      <tagSet><item><key>Name</key><value>web-SERVER-01</value></item><item><key>environment</key><value>prod</value></item>
        <item><key>Role</key><value>frontend</value></item></tagSet>
    </item></instancesSet></item></reservationSet></DescribeInstancesResponse>"#
}

fn items_from(call: &str, xml_text: &str) -> Vec<Value> {
    let c = TASKS.iter().flat_map(|t| t.calls).find(|c| c.name == call).unwrap();
    let doc = xml::to_json(xml_text.as_bytes()).unwrap();
    items_of(c, "us-east-1", &doc)
}

#[test]
fn table_a_instance_to_server() {
    let items = items_from("DescribeInstances", instance_xml());
    assert_eq!(items.len(), 1);
    let t = AwsTranslator::new("conn-1", "AWS prod", false).unwrap();
    let d = t.translate_item(Some("us-east-1"), &items[0]).unwrap();
    assert_eq!(d.kind, Kind::SERVER);
    assert_eq!(d.native_id, "i-0abc");
    assert_eq!(d.doc.name, "web-SERVER-01");
    let a = Value::Object(d.doc.attributes.clone());
    assert_eq!(a["unique_id"], "i-0abc");
    assert_eq!(a["role"], "frontend");
    assert_eq!(a["environment"], "prod");
    assert_eq!(a["created_at"], "2026-01-01T00:00:00.000Z");
    assert_eq!(a["updated_at"], a["created_at"]);
    assert_eq!(a["ipv4_private"], "10.0.0.4");
    assert_eq!(a["ipv4_public"], "1.2.3.4");
    assert_eq!(a["dns_private"], "ip-10-0-0-4.ec2.internal");
    assert_eq!(a["dns_public"], "ec2-1-2-3-4.compute.amazonaws.com");
    assert_eq!(
        a["storage"],
        json!([{"device_name": "/dev/sda1", "delete_termination": true, "unique_id": "vol-1",
                "attach_time": "2026-01-01T00:00:00.000Z", "status": "attached"}])
    );
    assert_eq!(a["auth"], json!([{"name": "deploy", "type": "PKI"}]));
    assert_eq!(a["ebs_optimized"], json!(false), "falsy values are kept");
    assert_eq!(a["status"], "Active");
    assert_eq!(a["active"], json!(true));
    assert_eq!(
        a["metas"],
        json!({"security_groups": [{"group_id": "sg-1", "group_name": "web"}, {"group_id": "sg-2", "group_name": "ssh"}],
               "iam_instance_profile": "arn:aws:iam::1:instance-profile/web"})
    );
    assert_eq!(
        a["datacenters"],
        json!({"name": "AWS prod", "provider": "AWS", "region": "us-east-1", "zone": "us-east-1a", "type": "Virtual",
               "instance": "m5.large", "instance_id": "i-0abc", "subnet_id": "subnet-1", "vpc_id": "vpc-1",
               "virtualization_type": "hvm", "hypervisor": "xen", "root_device_type": "ebs", "image_id": "ami-1",
               "architecture": "x86_64", "cloudwatch_monitoring": "disabled"})
    );
    assert_eq!(a["owner"], json!({"refs": "connections", "name": "AWS prod", "_id": "conn-1"}));
    assert_eq!(a["accountant"], json!(["conn-1"]));
    assert_eq!((a["cpu"].clone(), a["memory"].clone()), (json!(2), json!(8.0)), "cpu/memory hook from the catalogue");
    assert_eq!(d.doc.tags.get("Name").map(String::as_str), Some("web-SERVER-01"));
    assert_eq!(d.doc.tags.len(), 3);
    let rels: Vec<(String, String)> = d.doc.relations.iter().map(|r| (r.rel.clone(), r.native_id.clone())).collect();
    assert_eq!(
        rels,
        vec![
            ("in_subnet".into(), "subnet-1".into()),
            ("in_vpc".into(), "vpc-1".into()),
            ("secured_by".into(), "sg-1".into()),
            ("secured_by".into(), "sg-2".into()),
            ("attached_volume".into(), "vol-1".into()),
            ("from_image".into(), "ami-1".into()),
        ]
    );
    // Compat mode reproduces the original's quirks.
    let c = AwsTranslator::new("conn-1", "AWS prod", true).unwrap();
    let d = c.translate_item(Some("us-east-1"), &items[0]).unwrap();
    assert_eq!(d.doc.name, "Web-server-01");
    assert!(!d.doc.attributes.contains_key("ebs_optimized"), "compat drops false like the original");
    assert_ne!(c.version(), t.version());
}

#[test]
fn terminated_instance_is_inactive_and_stopped_is_stopped() {
    let t = AwsTranslator::new("c", "dc", false).unwrap();
    for (state, status, active) in
        [("terminated", None, false), ("shutting-down", None, false), ("stopped", Some("Stopped"), true)]
    {
        let xml_text = instance_xml().replace("<name>running</name>", &format!("<name>{state}</name>"));
        let item = &items_from("DescribeInstances", &xml_text)[0];
        let d = t.translate_item(Some("us-east-1"), item).unwrap();
        assert_eq!(d.doc.attributes.get("status").and_then(Value::as_str), status, "{state}");
        assert_eq!(d.doc.attributes["active"], json!(active), "{state}");
    }
}

#[test]
fn table_b_elbv2_to_application() {
    let xml_text = r#"<DescribeLoadBalancersResponse><DescribeLoadBalancersResult><LoadBalancers><member>
      <LoadBalancerArn>arn:aws:elasticloadbalancing:us-east-1:1:loadbalancer/app/alb-0/abc</LoadBalancerArn>
      <DNSName>alb-0.us-east-1.elb.amazonaws.com</DNSName><CanonicalHostedZoneId>Z2P70J7</CanonicalHostedZoneId>
      <CreatedTime>2026-01-01T00:00:00Z</CreatedTime><LoadBalancerName>alb-0</LoadBalancerName><Scheme>internet-facing</Scheme>
      <VpcId>vpc-1</VpcId><State><Code>active_impaired</Code></State><Type>application</Type>
      <AvailabilityZones><member><ZoneName>us-east-1a</ZoneName><SubnetId>subnet-1</SubnetId></member>
        <member><ZoneName>us-east-1b</ZoneName><SubnetId>subnet-2</SubnetId></member></AvailabilityZones>
      <SecurityGroups><member>sg-1</member></SecurityGroups><IpAddressType>ipv4</IpAddressType>
    </member></LoadBalancers></DescribeLoadBalancersResult></DescribeLoadBalancersResponse>"#;
    let mut items = items_from("DescribeLoadBalancersV2", xml_text);
    items[0]["@targets"] = json!(["i-1", "i-2"]);
    items[0]["@targetGroups"] = json!(["arn:tg"]);
    let t = AwsTranslator::new("conn-1", "AWS prod", false).unwrap();
    let d = t.translate_item(Some("us-east-1"), &items[0]).unwrap();
    assert_eq!(d.kind, Kind::APPLICATION);
    assert_eq!(d.native_id, "arn:aws:elasticloadbalancing:us-east-1:1:loadbalancer/app/alb-0/abc");
    assert_eq!(d.doc.name, "alb-0");
    let a = Value::Object(d.doc.attributes.clone());
    assert_eq!(a["unique_id"], "alb-0");
    assert_eq!(
        (a["family"].clone(), a["provider"].clone(), a["own"].clone()),
        (json!("Loadbalance"), json!("ELB (AWS)"), json!(1))
    );
    assert_eq!(
        a["role"],
        json!({"endpoint": "alb-0.us-east-1.elb.amazonaws.com", "arn": "arn:aws:elasticloadbalancing:us-east-1:1:loadbalancer/app/alb-0/abc",
               "canonical_hosted_zone": "Z2P70J7", "vpc_id": "vpc-1", "type": "application", "scheme": "internet-facing",
               "ip_address_type": "ipv4", "target_groups": ["arn:tg"]})
    );
    assert_eq!(a["status"], "Active_impaired");
    assert_eq!(a["active"], json!(false));
    assert_eq!(a["created_at"], "2026-01-01T00:00:00Z");
    assert_eq!(a["datacenters"]["zone"], json!(["us-east-1a", "us-east-1b"]));
    assert_eq!(a["datacenters"]["security_groups"], json!(["sg-1"]));
    let targets: Vec<&str> =
        d.doc.relations.iter().filter(|r| r.rel == "targets").map(|r| r.native_id.as_str()).collect();
    assert_eq!(targets, vec!["i-1", "i-2"]);
}

#[test]
fn regional_names_get_the_region_in_their_id() {
    let t = AwsTranslator::new("c", "dc", false).unwrap();
    let d = t.translate_item(Some("eu-west-1"), &json!({"@call": "ListTables", "TableName": "users"})).unwrap();
    assert_eq!((d.native_id.as_str(), d.doc.name.as_str()), ("eu-west-1/users", "DynamoDB - users"));
    let sqs = TASKS.iter().flat_map(|t| t.calls).find(|c| c.name == "ListQueues").unwrap();
    let doc = xml::to_json(
        b"<ListQueuesResponse><ListQueuesResult><QueueUrl>https://sqs.eu-west-1.amazonaws.com/123/jobs</QueueUrl></ListQueuesResult></ListQueuesResponse>",
    )
    .unwrap();
    let items = items_of(sqs, "eu-west-1", &doc);
    let d = t.translate_item(Some("eu-west-1"), &items[0]).unwrap();
    assert_eq!(d.native_id, "arn:aws:sqs:eu-west-1:123:jobs");
    let e = t.translate_item(Some("eu-west-1"), &json!({"@call": "ListTables"})).unwrap_err();
    assert!(e.reason.contains("no native id"), "{e}");
    let e = t.translate_item(None, &json!({"x": 1})).unwrap_err();
    assert!(e.reason.contains("@call"), "{e}");
}

#[test]
fn translator_uses_the_scope_region() {
    let t = AwsTranslator::new("c", "dc", false).unwrap();
    let scope = Scope::new("t", "c", "dynamodb-list", Some("ap-south-1".into()));
    let d = t.translate(&scope, &json!({"@call": "ListTables", "TableName": "x"})).unwrap();
    assert_eq!(d[0].native_id, "ap-south-1/x");
}

// ---------------------------------------------------------------- XML

#[test]
fn xml_lists_objects_and_repeats() {
    let doc = xml::to_json(
        br#"<?xml version="1.0"?><R xmlns="x"><a><item><k>1</k></item><item><k>2</k></item></a><emptySet/><e/>
        <L><D><n>1</n></D><D><n>2</n></D><D><n>3</n></D></L><S><D><n>only</n></D></S><t>a &amp; b &#233;</t></R>"#,
    )
    .unwrap();
    assert_eq!(doc["R"]["a"], json!([{"k": "1"}, {"k": "2"}]));
    assert_eq!(doc["R"]["emptySet"], json!([]));
    assert_eq!(doc["R"]["e"], json!(""));
    assert_eq!(doc["R"]["L"]["D"], json!([{"n": "1"}, {"n": "2"}, {"n": "3"}]));
    assert_eq!(xml::list_at(&doc, "*.S.D").len(), 1, "a single child is a one-element list");
    assert_eq!(doc["R"]["t"], json!("a & b é"));
}

#[test]
fn truncated_xml_is_an_error() {
    let full = instance_xml().as_bytes();
    for cut in [10, full.len() / 2, full.len() - 5] {
        assert!(xml::to_json(&full[..cut]).is_err(), "cut at {cut}");
    }
    assert!(xml::to_json(b"").is_err());
    assert!(xml::to_json(b"<a><b></a>").is_err());
}

// ---------------------------------------------------------------- client

#[test]
fn sigv4_matches_the_published_get_vanilla_vector() {
    // AWS SigV4 test suite, `get-vanilla`.
    let creds = Credentials {
        access_key_id: "AKIDEXAMPLE".into(),
        secret_access_key: "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY".into(),
        session_token: None,
    };
    let req = AwsRequest {
        service: "service",
        host_prefix: "example",
        region: "us-east-1".into(),
        method: Method::GET,
        path_and_query: "/".into(),
        headers: Vec::new(),
        body: Vec::new(),
    };
    let at = SystemTime::UNIX_EPOCH + Duration::from_secs(1_440_938_160); // 2015-08-30T12:36:00Z
    let headers = sign_request(&creds, &req, "https://example.amazonaws.com/", at).unwrap();
    let auth = headers.iter().find(|(k, _, _)| k.eq_ignore_ascii_case("authorization")).unwrap();
    assert_eq!(
        auth.1,
        "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, \
         SignedHeaders=host;x-amz-date, Signature=5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31"
    );
    let date = headers.iter().find(|(k, _, _)| k.eq_ignore_ascii_case("x-amz-date")).unwrap();
    assert_eq!(date.1, "20150830T123600Z");
}

#[test]
fn session_tokens_are_signed_and_s3_gets_a_payload_hash() {
    let creds =
        Credentials { access_key_id: "AK".into(), secret_access_key: "SK".into(), session_token: Some("TOK".into()) };
    let req = AwsRequest {
        service: "s3",
        host_prefix: "s3",
        region: "us-east-1".into(),
        method: Method::GET,
        path_and_query: "/".into(),
        headers: Vec::new(),
        body: Vec::new(),
    };
    let h = sign_request(&creds, &req, "http://127.0.0.1:1/", SystemTime::now()).unwrap();
    let names: Vec<String> = h.iter().map(|(k, _, _)| k.to_ascii_lowercase()).collect();
    assert!(names.contains(&"x-amz-security-token".to_string()), "{names:?}");
    assert!(names.contains(&"x-amz-content-sha256".to_string()), "{names:?}");
}

#[test]
fn s3_get_object_matches_the_published_example() {
    // Amazon S3 documentation, "Signature calculations for the Authorization header", GET Object.
    let creds = Credentials {
        access_key_id: "AKIAIOSFODNN7EXAMPLE".into(),
        secret_access_key: "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY".into(),
        session_token: None,
    };
    let req = AwsRequest {
        service: "s3",
        host_prefix: "s3",
        region: "us-east-1".into(),
        method: Method::GET,
        path_and_query: "/test.txt".into(),
        headers: vec![("range", "bytes=0-9".into())],
        body: Vec::new(),
    };
    let at = SystemTime::UNIX_EPOCH + Duration::from_secs(1_369_353_600); // 2013-05-24T00:00:00Z
    let headers = sign_request(&creds, &req, "https://examplebucket.s3.amazonaws.com/test.txt", at).unwrap();
    let auth = headers.iter().find(|(k, _, _)| k.eq_ignore_ascii_case("authorization")).unwrap();
    assert_eq!(
        auth.1,
        "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request, \
         SignedHeaders=host;range;x-amz-content-sha256;x-amz-date, \
         Signature=f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41"
    );
}

#[test]
fn s3_object_paths_are_signed_as_sent() {
    // S3 keys may hold `//` and `..`: the canonical URI is not normalised (and not double-encoded),
    // so these two different objects get different signatures.
    let creds = Credentials { access_key_id: "AK".into(), secret_access_key: "SK".into(), session_token: None };
    let at = SystemTime::UNIX_EPOCH + Duration::from_secs(1_369_353_600);
    let sig = |path: &str| {
        let req = AwsRequest {
            service: "s3",
            host_prefix: "s3",
            region: "us-east-1".into(),
            method: Method::GET,
            path_and_query: path.into(),
            headers: Vec::new(),
            body: Vec::new(),
        };
        let h = sign_request(&creds, &req, &format!("http://127.0.0.1:1{path}"), at).unwrap();
        h.into_iter().find(|(k, _, _)| k.eq_ignore_ascii_case("authorization")).unwrap().1
    };
    assert_ne!(sig("/b/facts//web.json"), sig("/b/facts/web.json"));
    assert_ne!(sig("/b/a/../web.json"), sig("/b/web.json"));
}

#[test]
fn errors_are_classified() {
    let ec2 = |code: &str| {
        format!("<Response><Errors><Error><Code>{code}</Code><Message>m</Message></Error></Errors></Response>")
    };
    let kind = |status: u16, body: &str| classify(status, body.as_bytes(), "ec2 X in r").kind;
    assert_eq!(kind(503, &ec2("RequestLimitExceeded")), ProviderErrorKind::Throttled);
    assert_eq!(kind(400, &ec2("Throttling")), ProviderErrorKind::Throttled);
    assert_eq!(kind(429, ""), ProviderErrorKind::Throttled);
    assert_eq!(kind(503, ""), ProviderErrorKind::Throttled);
    assert_eq!(kind(500, "oops"), ProviderErrorKind::Transient);
    assert_eq!(kind(502, ""), ProviderErrorKind::Transient);
    assert_eq!(kind(401, &ec2("AuthFailure")), ProviderErrorKind::Auth);
    assert_eq!(kind(403, &ec2("InvalidClientTokenId")), ProviderErrorKind::Auth);
    assert_eq!(kind(400, &ec2("SignatureDoesNotMatch")), ProviderErrorKind::Auth);
    assert_eq!(kind(403, ""), ProviderErrorKind::Auth);
    assert_eq!(
        kind(400, r#"{"__type":"com.amazonaws.dynamodb.v20120810#ThrottlingException","message":"slow"}"#),
        ProviderErrorKind::Throttled
    );
    assert_eq!(kind(400, r#"{"__type":"UnrecognizedClientException","message":"bad"}"#), ProviderErrorKind::Auth);
    assert_eq!(kind(400, &ec2("InvalidParameterValue")), ProviderErrorKind::Invalid);
    let e = classify(401, ec2("AuthFailure").as_bytes(), "ec2 DescribeInstances in us-east-1");
    assert_eq!(e.message, "ec2 DescribeInstances in us-east-1: HTTP 401: AuthFailure: m");
}

#[test]
fn credentials_never_show_in_debug() {
    let mut cfg = AwsConfig::new("c", "AKIAVISIBLE", "super-secret-key", &["us-east-1"]);
    cfg.session_token = Some("session-secret".into());
    let s = format!("{cfg:?}");
    assert!(s.contains("AKIAVISIBLE") && !s.contains("super-secret-key") && !s.contains("session-secret"), "{s}");
    let p = AwsProvider::new("t", cfg).unwrap();
    let s = format!("{p:?}");
    assert!(!s.contains("super-secret-key") && !s.contains("session-secret"), "{s}");
}

// ---------------------------------------------------------------- config and scopes

#[test]
fn example_config_parses_and_builds() {
    let yaml = r#"
type: aws
connection: aws-prod
datacenter: AWS production
access_key_id: AKIAEXAMPLE
secret_access_key: secret
regions: [us-east-1, "eu-west-1 (Ireland)"]
tasks: [server-list, storage-object-list]
endpoint: http://127.0.0.1:5055
page_sizes: {DescribeInstances: 5}
"#;
    let v: Value = serde_yaml_ng::from_str(yaml).unwrap();
    let mut e = ConfigErrors::new();
    let src = crate::build_source("acme", &v, "sources[0]", &mut e).expect("builds");
    assert!(e.is_empty(), "{e}");
    assert_eq!(src.connection, "aws-prod");
}

#[tokio::test]
async fn scopes_are_task_by_region_and_global_tasks_once() {
    let mut cfg = AwsConfig::new("c", "a", "s", &["us-east-1", "eu-west-1 (Ireland)", "us-east-1"]);
    cfg.tasks = Some(vec!["server-list".into(), "storage-object-list".into()]);
    let p = AwsProvider::new("t", cfg).unwrap();
    let scopes: Vec<String> = maestro_core::Provider::scopes(&p).await.unwrap().iter().map(Scope::local_key).collect();
    assert_eq!(scopes, vec!["server-list@us-east-1", "server-list@eu-west-1", "storage-object-list"]);
}

#[test]
fn config_reports_every_problem_with_its_path() {
    let mut cfg = AwsConfig::new(" ", "", "", &["us-east-1", "Mars"]);
    cfg.tasks = Some(vec!["server-list".into(), "toaster-list".into()]);
    cfg.endpoint = Some("ftp://x".into());
    cfg.page_sizes.insert("DescribeNothing".into(), 0);
    cfg.max_concurrency = 0;
    cfg.max_requests_per_second = Some(-1.0);
    cfg.timeout_secs = 0.0;
    let mut e = ConfigErrors::new();
    assert!(!cfg.validate("sources[2]", &mut e));
    let paths: Vec<&str> = e.problems.iter().map(|(p, _)| p.as_str()).collect();
    assert_eq!(
        paths,
        vec![
            "sources[2].connection",
            "sources[2].access_key_id",
            "sources[2].secret_access_key",
            "sources[2].regions[1]",
            "sources[2].tasks[1]",
            "sources[2].endpoint",
            "sources[2].page_sizes.DescribeNothing",
            "sources[2].page_sizes.DescribeNothing",
            "sources[2].max_requests_per_second",
            "sources[2].max_concurrency",
            "sources[2].timeout_secs",
        ]
    );
    let mut e = ConfigErrors::new();
    assert!(crate::build_source("t", &json!({"type": "aws", "connection": "c", "bogus": 1}), "s", &mut e).is_none());
    assert!(e.problems[0].1.contains("unknown field `bogus`"), "{e}");
}

#[test]
fn every_task_pages_with_a_token_or_has_a_reason_not_to() {
    for t in TASKS {
        for c in t.calls {
            let p = c.paging;
            if c.name == "DescribeVpnGateways" {
                assert!(p.token_param.is_empty(), "DescribeVpnGateways has no pagination in the EC2 API");
                continue;
            }
            assert!(!p.token_param.is_empty() && !p.token_path.is_empty(), "{} has no pagination", c.name);
            assert!(p.min_size <= p.max_size && p.max_size > 0, "{}", c.name);
        }
    }
    assert!(task("server-list").is_some() && task("nope").is_none());
}

#[test]
fn instance_type_catalogue_has_the_common_types() {
    assert_eq!(instance_type("t3.micro"), Some((2, 1.0)));
    assert_eq!(instance_type("m5.large"), Some((2, 8.0)));
    assert_eq!(instance_type("c5.xlarge"), Some((4, 8.0)));
    assert_eq!(instance_type("nope.huge"), None);
    assert!(INSTANCE_TYPES.lines().count() > 500);
}

#[test]
fn terminated_instances_are_left_out_by_the_translator() {
    let t = AwsTranslator::new("c", "dc", false).unwrap();
    let scope = Scope::new("t", "c", "server-list", Some("us-east-1".into()));
    let xml_text = instance_xml().replace("<name>running</name>", "<name>terminated</name>");
    let item = &items_from("DescribeInstances", &xml_text)[0];
    assert!(t.translate(&scope, item).unwrap().is_empty());
    assert_eq!(t.translate(&scope, &items_from("DescribeInstances", instance_xml())[0]).unwrap().len(), 1);
}

// ---------------------------------------------------------------- pagination against a fake API

/// Serves 10 items per list call, `size` at a time, with each API's own token style.
async fn fake_aws(
    uri: axum::http::Uri,
    headers: axum::http::HeaderMap,
    body: axum::body::Bytes,
) -> (axum::http::StatusCode, String) {
    let mut params: std::collections::HashMap<String, String> = std::collections::HashMap::new();
    let form = String::from_utf8_lossy(&body).to_string();
    for part in uri.query().unwrap_or("").split('&').chain(form.split('&')) {
        if let Some((k, v)) = part.split_once('=') {
            params.insert(k.to_string(), v.to_string());
        }
    }
    let page = |size: Option<&String>, token: Option<&String>| {
        let size: usize = size.and_then(|s| s.parse().ok()).unwrap_or(10);
        let start: usize = token.map_or(0, |t| t.trim_start_matches("tok").parse().unwrap_or(99));
        let end = (start + size).min(10);
        (start..end, (end < 10).then(|| format!("tok{end}")))
    };
    let ok = axum::http::StatusCode::OK;
    if let Some(target) = headers.get("x-amz-target").and_then(|v| v.to_str().ok()) {
        assert_eq!(target, "DynamoDB_20120810.ListTables");
        let req: Value = serde_json::from_slice(&body).unwrap();
        let size = req["Limit"].as_u64().map(|n| n.to_string());
        // DynamoDB's token is the last table name returned.
        let token = req["ExclusiveStartTableName"]
            .as_str()
            .map(|t| format!("tok{}", t.trim_start_matches('t').parse::<usize>().unwrap() + 1));
        let (r, next) = page(size.as_ref(), token.as_ref());
        let names: Vec<String> = r.map(|i| format!("t{i}")).collect();
        let mut out = json!({"TableNames": names});
        if next.is_some() {
            out["LastEvaluatedTableName"] = json!(names.last().unwrap());
        }
        return (ok, out.to_string());
    }
    match (params.get("Action").map(String::as_str), uri.path()) {
        // EC2's NextToken style (moto answers these in one page whatever MaxResults says).
        (Some(action @ ("DescribeVolumes" | "DescribeSnapshots" | "DescribeSecurityGroups")), _) => {
            let (r, next) = page(params.get("MaxResults"), params.get("NextToken"));
            let (set, id, prefix) = match action {
                "DescribeVolumes" => ("volumeSet", "volumeId", "vol-"),
                "DescribeSnapshots" => ("snapshotSet", "snapshotId", "snap-"),
                _ => ("securityGroupInfo", "groupId", "sg-"),
            };
            let items: String = r.map(|i| format!("<item><{id}>{prefix}{i}</{id}><groupName>g{i}</groupName></item>")).collect();
            let next = next.map(|n| format!("<nextToken>{n}</nextToken>")).unwrap_or_default();
            (ok, format!("<{action}Response><{set}>{items}</{set}>{next}</{action}Response>"))
        }
        (Some("ListQueues"), _) => {
            let (r, next) = page(params.get("MaxResults"), params.get("NextToken"));
            let urls: String = r.map(|i| format!("<QueueUrl>https://sqs.us-east-1.amazonaws.com/123/q{i}</QueueUrl>")).collect();
            let next = next.map(|n| format!("<NextToken>{n}</NextToken>")).unwrap_or_default();
            (ok, format!("<ListQueuesResponse><ListQueuesResult>{urls}{next}</ListQueuesResult></ListQueuesResponse>"))
        }
        (Some("DescribeLoadBalancers"), _) if params.get("Version").map(String::as_str) == Some("2012-06-01") => {
            let (r, next) = page(params.get("PageSize"), params.get("Marker"));
            let lbs: String = r.map(|i| format!("<member><LoadBalancerName>lb{i}</LoadBalancerName></member>")).collect();
            let next = next.map(|n| format!("<NextMarker>{n}</NextMarker>")).unwrap_or_default();
            (ok, format!("<DescribeLoadBalancersResponse><DescribeLoadBalancersResult><LoadBalancerDescriptions>{lbs}</LoadBalancerDescriptions>{next}</DescribeLoadBalancersResult></DescribeLoadBalancersResponse>"))
        }
        (Some("DescribeLoadBalancers"), _) => (
            ok,
            "<DescribeLoadBalancersResponse><DescribeLoadBalancersResult><LoadBalancers/></DescribeLoadBalancersResult></DescribeLoadBalancersResponse>".into(),
        ),
        (None, "/2015-03-31/functions/") => {
            let (r, next) = page(params.get("MaxItems"), params.get("Marker"));
            let f: Vec<Value> = r.map(|i| json!({"FunctionName": format!("f{i}"), "FunctionArn": format!("arn:aws:lambda:us-east-1:1:function:f{i}")})).collect();
            (ok, json!({"Functions": f, "NextMarker": next}).to_string())
        }
        (None, "/restapis") => {
            let (r, next) = page(params.get("limit"), params.get("position"));
            let items: Vec<Value> = r.map(|i| json!({"id": format!("api{i}"), "name": format!("api {i}")})).collect();
            let mut out = json!({"item": items});
            if let Some(n) = next {
                out["position"] = json!(n);
            }
            (ok, out.to_string())
        }
        (None, "/") => {
            let (r, next) = page(params.get("max-buckets"), params.get("continuation-token"));
            let b: String = r.map(|i| format!("<Bucket><Name>b{i}</Name></Bucket>")).collect();
            let next = next.map(|n| format!("<ContinuationToken>{n}</ContinuationToken>")).unwrap_or_default();
            (ok, format!("<ListAllMyBucketsResult><Buckets>{b}</Buckets>{next}</ListAllMyBucketsResult>"))
        }
        other => (axum::http::StatusCode::BAD_REQUEST, format!("unexpected {other:?}")),
    }
}

#[tokio::test]
async fn every_token_style_pages_to_the_end() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, axum::Router::new().fallback(fake_aws)).await.unwrap() });
    let mut cfg = AwsConfig::new("c", "AK", "SK", &["us-east-1"]);
    cfg.endpoint = Some(format!("http://{addr}"));
    cfg.page_size = Some(3);
    cfg.tasks = Some(
        [
            "brokers-list",
            "loadbalance-list",
            "serverless-list",
            "dynamodb-list",
            "gateway-list",
            "storage-object-list",
            "volumes-list",
            "snapshot-list",
            "security-list",
        ]
        .map(String::from)
        .to_vec(),
    );
    let p = AwsProvider::new("t", cfg).unwrap();
    let counts = maestro_core::testing::assert_provider_contract(&p).await;
    assert_eq!(counts, vec![10; 9], "every item of every task, no page lost or repeated");
    let t = AwsTranslator::new("c", "dc", false).unwrap();
    for scope in maestro_core::Provider::scopes(&p).await.unwrap() {
        let mut cursor = None;
        let mut ids = std::collections::BTreeSet::new();
        loop {
            let page = maestro_core::Provider::fetch_page(&p, &scope, cursor.as_ref()).await.unwrap();
            for it in &page.items {
                for d in t.translate(&scope, it).unwrap() {
                    ids.insert(d.native_id);
                }
            }
            cursor = page.next;
            if cursor.is_none() {
                break;
            }
        }
        assert_eq!(ids.len(), 10, "{scope}");
    }
    // 4 pages of 3 per call (loadbalance-list: 1 empty ELBv2 page + 4 classic pages), and 2
    // pages of 5 for the EC2 calls (their smallest page), twice.
    assert!(p.request_count() >= 2 * (4 * 6 + 1 + 3 * 2), "requests: {}", p.request_count());
}
