//! A private tansu broker (a Kafka-protocol server) per test, on a free loopback port, with
//! in-memory storage. Tests can restart it, or start it behind a proxy they cut to make the
//! broker unreachable without losing its state.

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use rdkafka::ClientConfig;
use rdkafka::admin::{AdminClient, AdminOptions, NewTopic, TopicReplication};
use rdkafka::client::DefaultClientContext;
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::message::{Message, OwnedMessage};
use rdkafka::{Offset, TopicPartitionList};

use crate::util::tcp_proxy::TcpProxy;

const HOW_TO: &str = "tansu (a Kafka-protocol broker) is needed: install it with \
    `cargo install tansu --locked --features dynostore` and set MAESTRO_TANSU_BIN to its path \
    (scripts/services.sh does both; `make test` sources it)";

/// The tansu binary: `MAESTRO_TANSU_BIN`, else `tansu` on the PATH.
pub(crate) fn tansu_bin() -> PathBuf {
    if let Ok(p) = std::env::var("MAESTRO_TANSU_BIN") {
        let p = PathBuf::from(p);
        assert!(p.is_file(), "MAESTRO_TANSU_BIN={} is not a file; {HOW_TO}", p.display());
        return p;
    }
    let found = std::env::var_os("PATH")
        .into_iter()
        .flat_map(|paths| std::env::split_paths(&paths).collect::<Vec<_>>())
        .map(|d| d.join("tansu"))
        .find(|p| p.is_file());
    found.unwrap_or_else(|| panic!("MAESTRO_TANSU_BIN is not set and no tansu on the PATH; {HOW_TO}"))
}

/// A running (or stopped) tansu broker owned by a test.
pub(crate) struct Tansu {
    bin: PathBuf,
    port: u16,
    /// The port clients are told to use (a [`TcpProxy`] in front of the broker), if not `port`.
    advertised: Option<u16>,
    child: Option<Child>,
}

fn free_port() -> u16 {
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    l.local_addr().unwrap().port()
}

impl Tansu {
    /// Start a broker on a free port and wait until it accepts connections.
    pub(crate) async fn start() -> Self {
        let mut t = Self { bin: tansu_bin(), port: free_port(), advertised: None, child: None };
        t.restart().await;
        t
    }

    /// Start a broker that advertises a loopback [`TcpProxy`] as its address, so that every
    /// client connection (bootstrap and the broker connections the metadata names) goes through
    /// the proxy: cutting the proxy makes the broker unreachable while it keeps its data,
    /// topics and idempotent-producer state.
    pub(crate) async fn start_behind_proxy() -> (Self, TcpProxy) {
        let port = free_port();
        let proxy = TcpProxy::start(format!("127.0.0.1:{port}")).await;
        let mut t = Self { bin: tansu_bin(), port, advertised: Some(proxy.addr().port()), child: None };
        t.restart().await;
        (t, proxy)
    }

    /// `127.0.0.1:<port>`: the address clients use (the proxy's, when behind one).
    pub(crate) fn brokers(&self) -> String {
        format!("127.0.0.1:{}", self.advertised.unwrap_or(self.port))
    }

    /// Kill the broker (its in-memory data is gone).
    pub(crate) async fn stop(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = tokio::task::spawn_blocking(move || c.wait()).await;
        }
    }

    /// Start the broker again on the same port (empty: topics must be created again).
    pub(crate) async fn restart(&mut self) {
        self.stop().await;
        let url = format!("tcp://127.0.0.1:{}", self.port);
        let advertised = format!("tcp://{}", self.brokers());
        let child = Command::new(&self.bin)
            .args(["broker", "--listener-url", &url, "--advertised-listener-url", &advertised])
            .args(["--storage-engine", "memory://tansu/"])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {}: {e}; {HOW_TO}", self.bin.display()));
        self.child = Some(child);
        for _ in 0..300 {
            if tokio::net::TcpStream::connect(("127.0.0.1", self.port)).await.is_ok() {
                return;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("tansu did not listen on 127.0.0.1:{} within 30 s", self.port);
    }

    /// Create `topic` with `partitions` partitions (tansu does not auto-create topics).
    pub(crate) async fn create_topic(&self, topic: &str, partitions: i32) {
        let admin: AdminClient<DefaultClientContext> =
            ClientConfig::new().set("bootstrap.servers", self.brokers()).create().expect("admin client");
        let opts = AdminOptions::new().operation_timeout(Some(Duration::from_secs(20)));
        let res = admin
            .create_topics(&[NewTopic::new(topic, partitions, TopicReplication::Fixed(1))], &opts)
            .await
            .expect("create_topics");
        for r in res {
            if let Err((name, code)) = r {
                assert!(
                    code == rdkafka::types::RDKafkaErrorCode::TopicAlreadyExists,
                    "cannot create topic {name}: {code:?}"
                );
            }
        }
    }

    /// Every message of `topic` (all partitions from the start), reading until `expected` were
    /// seen and the end of every partition is reached (gives up after 60 s: a hang guard, the
    /// caller asserts on what was read).
    pub(crate) fn read_all(&self, topic: &str, partitions: i32, expected: usize) -> Vec<OwnedMessage> {
        let consumer: BaseConsumer = ClientConfig::new()
            .set("bootstrap.servers", self.brokers())
            .set("group.id", format!("reader-{}", uuid::Uuid::new_v4()))
            .set("enable.auto.commit", "false")
            .set("enable.partition.eof", "true")
            .create()
            .expect("reader");
        let mut tpl = TopicPartitionList::new();
        for p in 0..partitions {
            tpl.add_partition_offset(topic, p, Offset::Beginning).unwrap();
        }
        consumer.assign(&tpl).unwrap();
        let mut out = Vec::new();
        let mut at_end = std::collections::HashSet::new();
        let deadline = std::time::Instant::now() + Duration::from_secs(60);
        while std::time::Instant::now() < deadline {
            match consumer.poll(Duration::from_millis(200)) {
                Some(Ok(m)) => {
                    at_end.remove(&m.partition());
                    out.push(m.detach());
                }
                Some(Err(rdkafka::error::KafkaError::PartitionEOF(p))) => {
                    at_end.insert(p);
                }
                Some(Err(e)) => tracing::debug!(error = %e, "reader"),
                None => {}
            }
            if out.len() >= expected && at_end.len() == partitions as usize {
                break;
            }
        }
        out
    }
}

impl Drop for Tansu {
    fn drop(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}
