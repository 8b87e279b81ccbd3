//! The task catalogue: every task, the API calls it makes, their protocol and pagination.
//!
//! This is protocol knowledge (how to ask), kept in code; what the answers *mean* is in the
//! mapping rules (`rules/*.yaml`).

/// How a call is sent and how its answer is read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Protocol {
    /// AWS Query (form-encoded POST, XML answer): EC2, ELB, ELBv2, RDS, AutoScaling,
    /// ElastiCache, SES, SQS.
    Query {
        /// `Action=`.
        action: &'static str,
        /// `Version=`.
        version: &'static str,
    },
    /// REST with an XML answer (S3, CloudFront): `GET path`.
    RestXml {
        /// Path (query parameters are added for paging).
        path: &'static str,
    },
    /// REST with a JSON answer (Lambda, API Gateway): `GET path`.
    RestJson {
        /// Path.
        path: &'static str,
    },
    /// AWS JSON 1.0 (DynamoDB): `POST /` with `X-Amz-Target`.
    Json {
        /// `X-Amz-Target`.
        target: &'static str,
    },
}

/// How a call pages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Paging {
    /// Request parameter carrying the token (`NextToken`, `Marker`, `position`, …); `""` when
    /// the call does not page.
    pub token_param: &'static str,
    /// Path of the next token in the answer (dotted, `*` = the root element).
    pub token_path: &'static str,
    /// Request parameter carrying the page size (`""` if none).
    pub size_param: &'static str,
    /// Smallest page size the API accepts.
    pub min_size: u32,
    /// Largest page size the API accepts (also the default).
    pub max_size: u32,
}

const NO_PAGING: Paging = Paging { token_param: "", token_path: "", size_param: "", min_size: 0, max_size: 0 };

/// One API call of a task.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Call {
    /// The call's name; also the name of its mapping rule (`DescribeInstances`).
    pub name: &'static str,
    /// Signing name.
    pub service: &'static str,
    /// Host prefix of the public endpoint.
    pub host_prefix: &'static str,
    /// Protocol.
    pub protocol: Protocol,
    /// Fixed request parameters (`Owner.1=self`).
    pub params: &'static [(&'static str, &'static str)],
    /// Path of the item list in the answer (dotted; `*` = the root element; `[]` not needed:
    /// lists are flattened at every step).
    pub items: &'static str,
    /// For nested lists (EC2 reservations → instances): path inside each item.
    pub nested: &'static str,
    /// Pagination.
    pub paging: Paging,
}

/// One task: a set of calls crawled as one scope per region (or one global scope).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Task {
    /// Task name (`server-list`, …), the scope's task.
    pub name: &'static str,
    /// Global (one scope, region-less, signed for `us-east-1`) rather than regional.
    pub global: bool,
    /// Calls, crawled one after the other within the scope.
    pub calls: &'static [Call],
}

const EC2: &str = "2016-11-15";

const fn ec2(name: &'static str, action: &'static str, items: &'static str, max: u32) -> Call {
    Call {
        name,
        service: "ec2",
        host_prefix: "ec2",
        protocol: Protocol::Query { action, version: EC2 },
        params: &[],
        items,
        nested: "",
        paging: if max == 0 {
            NO_PAGING
        } else {
            Paging {
                token_param: "NextToken",
                token_path: "*.nextToken",
                size_param: "MaxResults",
                min_size: 5,
                max_size: max,
            }
        },
    }
}

const fn query(
    name: &'static str,
    service: &'static str,
    version: &'static str,
    items: &'static str,
    paging: Paging,
) -> Call {
    Call {
        name,
        service,
        host_prefix: service,
        protocol: Protocol::Query { action: name, version },
        params: &[],
        items,
        nested: "",
        paging,
    }
}

const fn marker(result: &'static str, size_param: &'static str, min: u32, max: u32) -> Paging {
    Paging { token_param: "Marker", token_path: result, size_param, min_size: min, max_size: max }
}

/// Every task.
pub static TASKS: &[Task] = &[
    Task {
        name: "server-list",
        global: false,
        calls: &[Call {
            nested: "instancesSet",
            ..ec2("DescribeInstances", "DescribeInstances", "*.reservationSet", 1000)
        }],
    },
    Task {
        name: "volumes-list",
        global: false,
        calls: &[ec2("DescribeVolumes", "DescribeVolumes", "*.volumeSet", 500)],
    },
    Task {
        name: "snapshot-list",
        global: false,
        calls: &[Call {
            params: &[("Owner.1", "self")],
            ..ec2("DescribeSnapshots", "DescribeSnapshots", "*.snapshotSet", 1000)
        }],
    },
    Task {
        name: "images-list",
        global: false,
        calls: &[Call {
            params: &[("Owner.1", "self")],
            ..ec2("DescribeImages", "DescribeImages", "*.imagesSet", 1000)
        }],
    },
    Task {
        name: "security-list",
        global: false,
        calls: &[ec2("DescribeSecurityGroups", "DescribeSecurityGroups", "*.securityGroupInfo", 1000)],
    },
    Task {
        name: "network-list",
        global: false,
        calls: &[
            ec2("DescribeVpcs", "DescribeVpcs", "*.vpcSet", 1000),
            ec2("DescribeSubnets", "DescribeSubnets", "*.subnetSet", 1000),
            ec2("DescribeVpcPeeringConnections", "DescribeVpcPeeringConnections", "*.vpcPeeringConnectionSet", 1000),
            ec2("DescribeVpnGateways", "DescribeVpnGateways", "*.vpnGatewaySet", 0),
            ec2("DescribeVpcEndpoints", "DescribeVpcEndpoints", "*.vpcEndpointSet", 1000),
            ec2("DescribeRouteTables", "DescribeRouteTables", "*.routeTableSet", 100),
            ec2("DescribeNetworkInterfaces", "DescribeNetworkInterfaces", "*.networkInterfaceSet", 1000),
            ec2("DescribeNatGateways", "DescribeNatGateways", "*.natGatewaySet", 1000),
            ec2("DescribeNetworkAcls", "DescribeNetworkAcls", "*.networkAclSet", 100),
        ],
    },
    Task {
        name: "loadbalance-list",
        global: false,
        calls: &[
            Call {
                name: "DescribeLoadBalancersV2",
                ..query(
                    "DescribeLoadBalancers",
                    "elasticloadbalancing",
                    "2015-12-01",
                    "*.DescribeLoadBalancersResult.LoadBalancers",
                    marker("*.DescribeLoadBalancersResult.NextMarker", "PageSize", 1, 400),
                )
            },
            Call {
                name: "DescribeLoadBalancersClassic",
                ..query(
                    "DescribeLoadBalancers",
                    "elasticloadbalancing",
                    "2012-06-01",
                    "*.DescribeLoadBalancersResult.LoadBalancerDescriptions",
                    marker("*.DescribeLoadBalancersResult.NextMarker", "PageSize", 1, 400),
                )
            },
        ],
    },
    Task {
        name: "autoscaling-list",
        global: false,
        calls: &[query(
            "DescribeAutoScalingGroups",
            "autoscaling",
            "2011-01-01",
            "*.DescribeAutoScalingGroupsResult.AutoScalingGroups",
            Paging {
                token_param: "NextToken",
                token_path: "*.DescribeAutoScalingGroupsResult.NextToken",
                size_param: "MaxRecords",
                min_size: 1,
                max_size: 100,
            },
        )],
    },
    Task {
        name: "dbs-list",
        global: false,
        calls: &[query(
            "DescribeDBInstances",
            "rds",
            "2014-10-31",
            "*.DescribeDBInstancesResult.DBInstances.DBInstance",
            marker("*.DescribeDBInstancesResult.Marker", "MaxRecords", 20, 100),
        )],
    },
    Task {
        name: "cache-list",
        global: false,
        calls: &[query(
            "DescribeCacheClusters",
            "elasticache",
            "2015-02-02",
            "*.DescribeCacheClustersResult.CacheClusters.CacheCluster",
            marker("*.DescribeCacheClustersResult.Marker", "MaxRecords", 20, 100),
        )],
    },
    Task {
        name: "smtp-list",
        global: false,
        calls: &[Call {
            host_prefix: "email",
            ..query(
                "ListIdentities",
                "ses",
                "2010-12-01",
                "*.ListIdentitiesResult.Identities",
                Paging {
                    token_param: "NextToken",
                    token_path: "*.ListIdentitiesResult.NextToken",
                    size_param: "MaxItems",
                    min_size: 1,
                    max_size: 1000,
                },
            )
        }],
    },
    Task {
        name: "brokers-list",
        global: false,
        calls: &[query(
            "ListQueues",
            "sqs",
            "2012-11-05",
            "*.ListQueuesResult.QueueUrl",
            Paging {
                token_param: "NextToken",
                token_path: "*.ListQueuesResult.NextToken",
                size_param: "MaxResults",
                min_size: 1,
                max_size: 1000,
            },
        )],
    },
    Task {
        name: "storage-object-list",
        global: true,
        calls: &[Call {
            name: "ListBuckets",
            service: "s3",
            host_prefix: "s3",
            protocol: Protocol::RestXml { path: "/" },
            params: &[],
            items: "*.Buckets.Bucket",
            nested: "",
            paging: Paging {
                token_param: "continuation-token",
                token_path: "*.ContinuationToken",
                size_param: "max-buckets",
                min_size: 1,
                max_size: 10000,
            },
        }],
    },
    Task {
        name: "cdns-list",
        global: true,
        calls: &[Call {
            name: "ListDistributions",
            service: "cloudfront",
            host_prefix: "cloudfront",
            protocol: Protocol::RestXml { path: "/2020-05-31/distribution" },
            params: &[],
            items: "*.Items.DistributionSummary",
            nested: "",
            paging: Paging {
                token_param: "Marker",
                token_path: "*.NextMarker",
                size_param: "MaxItems",
                min_size: 1,
                max_size: 100,
            },
        }],
    },
    Task {
        name: "serverless-list",
        global: false,
        calls: &[Call {
            name: "ListFunctions",
            service: "lambda",
            host_prefix: "lambda",
            protocol: Protocol::RestJson { path: "/2015-03-31/functions/" },
            params: &[],
            items: "Functions",
            nested: "",
            paging: Paging {
                token_param: "Marker",
                token_path: "NextMarker",
                size_param: "MaxItems",
                min_size: 1,
                max_size: 50,
            },
        }],
    },
    Task {
        name: "serverless-support-list",
        global: false,
        calls: &[Call {
            name: "ListLayers",
            service: "lambda",
            host_prefix: "lambda",
            protocol: Protocol::RestJson { path: "/2018-10-31/layers" },
            params: &[],
            items: "Layers",
            nested: "",
            paging: Paging {
                token_param: "Marker",
                token_path: "NextMarker",
                size_param: "MaxItems",
                min_size: 1,
                max_size: 50,
            },
        }],
    },
    Task {
        name: "dynamodb-list",
        global: false,
        calls: &[Call {
            name: "ListTables",
            service: "dynamodb",
            host_prefix: "dynamodb",
            protocol: Protocol::Json { target: "DynamoDB_20120810.ListTables" },
            params: &[],
            items: "TableNames",
            nested: "",
            paging: Paging {
                token_param: "ExclusiveStartTableName",
                token_path: "LastEvaluatedTableName",
                size_param: "Limit",
                min_size: 1,
                max_size: 100,
            },
        }],
    },
    Task {
        name: "gateway-list",
        global: false,
        calls: &[Call {
            name: "GetRestApis",
            service: "apigateway",
            host_prefix: "apigateway",
            protocol: Protocol::RestJson { path: "/restapis" },
            params: &[],
            items: "item",
            nested: "",
            paging: Paging {
                token_param: "position",
                token_path: "position",
                size_param: "limit",
                min_size: 1,
                max_size: 500,
            },
        }],
    },
];

/// The task named `name`.
pub fn task(name: &str) -> Option<&'static Task> {
    TASKS.iter().find(|t| t.name == name)
}
