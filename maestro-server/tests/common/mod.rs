//! Helpers for the tests that run the real `maestro` binary.
#![allow(dead_code)]

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// The demo inventory shipped in the repository.
pub fn demo_inventory() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples/data/demo-inventory.json")
}

/// A running `maestro` process whose stdout lines are collected.
pub struct Proc {
    pub name: String,
    pub child: Child,
    pub lines: Arc<Mutex<Vec<String>>>,
    pub err_lines: Arc<Mutex<Vec<String>>>,
}

impl Proc {
    /// Start `maestro args…` with `envs`.
    pub fn start(name: &str, args: &[&str], envs: &[(&str, &str)]) -> Self {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_maestro"));
        cmd.args(args).stdout(Stdio::piped()).stderr(Stdio::piped()).env_remove("DATABASE_URL");
        cmd.env_remove("MAESTRO_BROKER_URL").env_remove("CELERY_BROKER_URL").env("MAESTRO_LOG", "warn");
        for (k, v) in envs {
            cmd.env(k, v);
        }
        let mut child = cmd.spawn().expect("spawn maestro");
        let lines = Arc::new(Mutex::new(Vec::new()));
        let out = child.stdout.take().expect("stdout");
        let l = lines.clone();
        std::thread::spawn(move || {
            for line in BufReader::new(out).lines().map_while(Result::ok) {
                l.lock().unwrap().push(line);
            }
        });
        let err = child.stderr.take().expect("stderr");
        let n = name.to_string();
        let err_lines = Arc::new(Mutex::new(Vec::new()));
        let el = err_lines.clone();
        std::thread::spawn(move || {
            for line in BufReader::new(err).lines().map_while(Result::ok) {
                eprintln!("[{n}] {line}");
                el.lock().unwrap().push(line);
            }
        });
        Self { name: name.into(), child, lines, err_lines }
    }

    pub fn err_lines(&self) -> Vec<String> {
        self.err_lines.lock().unwrap().clone()
    }

    pub fn lines(&self) -> Vec<String> {
        self.lines.lock().unwrap().clone()
    }

    /// Wait until a stdout line satisfies `f`; panics with the output after `limit`.
    pub fn wait_line(&mut self, limit: Duration, f: impl Fn(&str) -> bool) -> String {
        let start = Instant::now();
        loop {
            if let Some(l) = self.lines().into_iter().find(|l| f(l)) {
                return l;
            }
            if let Ok(Some(status)) = self.child.try_wait() {
                panic!("{} exited with {status}; stdout:\n{}", self.name, self.lines().join("\n"));
            }
            assert!(
                start.elapsed() < limit,
                "{}: line not seen within {limit:?}; stdout:\n{}",
                self.name,
                self.lines().join("\n")
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    pub fn signal(&self, sig: &str) {
        let ok = Command::new("kill").arg(format!("-{sig}")).arg(self.child.id().to_string()).status().expect("kill");
        assert!(ok.success(), "kill -{sig} {}", self.child.id());
    }

    /// SIGTERM and wait for the exit (at most `limit`); returns the exit status.
    pub fn terminate(&mut self, limit: Duration) -> std::process::ExitStatus {
        self.signal("TERM");
        let start = Instant::now();
        loop {
            if let Some(s) = self.child.try_wait().expect("wait") {
                return s;
            }
            if start.elapsed() > limit {
                let _ = self.child.kill();
                panic!("{} did not stop within {limit:?} after SIGTERM", self.name);
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for Proc {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// Poll `f` until it returns `Some`, at most `limit` (a failure bound, not a timed assertion).
pub async fn eventually<T, F, Fut>(what: &str, limit: Duration, mut f: F) -> T
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Option<T>>,
{
    let start = Instant::now();
    loop {
        if let Some(v) = f().await {
            return v;
        }
        assert!(start.elapsed() < limit, "{what}: not reached within {limit:?}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// The `http://addr` a `maestro serve` printed.
pub fn served_url(line: &str) -> String {
    let start = line.find("http://").expect("url in the start line");
    line[start..].split_whitespace().next().unwrap().to_string()
}
