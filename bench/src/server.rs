//! Starting a worker server (Switchboard or the floor) on 127.0.0.1, in its
//! own process group, and reading that group's CPU time and memory from
//! /proc. Every server is killed by its process group on drop, on panic, and
//! on Ctrl-C.

use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Stdio};
use std::sync::atomic::{AtomicI32, Ordering};
use std::time::{Duration, Instant};
use switchboard_tests::server::{
    free_port, repo_root, serve, wrangler, TempDir, TEST_SECRETS_KEY, TEST_SESSION_SECRET,
};

/// Process groups to kill if the bench is interrupted.
static GROUPS: [AtomicI32; 4] = [
    AtomicI32::new(0),
    AtomicI32::new(0),
    AtomicI32::new(0),
    AtomicI32::new(0),
];

extern "C" fn on_signal(_sig: libc::c_int) {
    for g in &GROUPS {
        let pgid = g.load(Ordering::SeqCst);
        if pgid > 0 {
            // SAFETY: kill(2) is async-signal-safe; a negative pid names the group.
            unsafe {
                libc::kill(-pgid, libc::SIGKILL);
            }
        }
    }
    // SAFETY: _exit(2) is async-signal-safe.
    unsafe { libc::_exit(130) }
}

/// Ctrl-C or SIGTERM kills every server this bench started.
pub fn install_signal_handlers() {
    let handler = on_signal as extern "C" fn(libc::c_int) as libc::sighandler_t;
    // SAFETY: installing a handler that only calls async-signal-safe functions.
    unsafe {
        libc::signal(libc::SIGINT, handler);
        libc::signal(libc::SIGTERM, handler);
    }
}

fn register(pgid: i32) {
    for g in &GROUPS {
        if g.compare_exchange(0, pgid, Ordering::SeqCst, Ordering::SeqCst)
            .is_ok()
        {
            return;
        }
    }
}

fn unregister(pgid: i32) {
    for g in &GROUPS {
        let _ = g.compare_exchange(pgid, 0, Ordering::SeqCst, Ordering::SeqCst);
    }
}

/// A running worker server and its workerd.
pub struct Proc {
    pub base: String,
    pub port: u16,
    pub pgid: i32,
    /// From spawning the process to the first 200 on /healthz.
    pub cold_start: Duration,
    child: Option<Child>,
    state: TempDir,
    /// How it was started, to start it again on the same state and port.
    name: &'static str,
    config: PathBuf,
    extra: Vec<String>,
}

/// The worker's built shim; the bench never builds the worker itself unless asked.
pub fn switchboard_built() -> bool {
    repo_root()
        .join("functions/worker/build/worker/shim.mjs")
        .exists()
}

pub fn floor_dir() -> PathBuf {
    repo_root().join("bench/floor")
}

impl Proc {
    /// Switchboard from the repository root, with a fresh state folder and
    /// its D1 migrations applied.
    pub fn switchboard() -> Proc {
        let root = repo_root();
        let state = TempDir::new("bench-switchboard");
        let out = wrangler()
            .args(["d1", "migrations", "apply", "DB", "--local", "--persist-to"])
            .arg(state.path())
            .stdin(Stdio::null())
            .output()
            .expect("running wrangler d1 migrations apply (run scripts/setup.sh or npm ci)");
        assert!(
            out.status.success(),
            "applying D1 migrations failed:\n{}\n{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        let var = format!("SESSION_SECRET:{TEST_SESSION_SECRET}");
        let key = format!("SECRETS_KEY:{TEST_SECRETS_KEY}");
        Proc::spawn(
            "switchboard",
            &root.join("wrangler.toml"),
            state,
            // DEBUG_COUNTERS: `/healthz` reports the wasm memory (soak).
            &["--var", &var, "--var", &key, "--var", "DEBUG_COUNTERS:1"],
        )
    }

    /// The JavaScript floor from `bench/floor`, with its own state folder.
    pub fn floor() -> Proc {
        Proc::spawn(
            "floor",
            &floor_dir().join("wrangler.toml"),
            TempDir::new("bench-floor"),
            &[],
        )
    }

    /// Both sides run under the same server (`scripts/serve.mjs`: wrangler's
    /// dev server with the devtools inspector off, which would otherwise
    /// trace every subrequest and bill it to the side that makes them).
    fn spawn(name: &'static str, config: &Path, state: TempDir, extra: &[&str]) -> Proc {
        Proc::spawn_on(name, config, state, extra, free_port())
    }

    /// SIGKILL to the whole group (no shutdown, no flushing), then the same
    /// server again on the same state folder and port.
    pub fn kill_and_restart(&mut self) {
        if let Some(mut child) = self.child.take() {
            kill_group(self.pgid);
            let _ = child.wait();
            unregister(self.pgid);
        }
        std::thread::sleep(Duration::from_millis(300));
        let state = std::mem::replace(&mut self.state, TempDir::new("bench-moved"));
        let extra: Vec<&str> = self.extra.iter().map(String::as_str).collect();
        let fresh = Proc::spawn_on(self.name, &self.config.clone(), state, &extra, self.port);
        *self = fresh;
    }

    fn spawn_on(
        name: &'static str,
        config: &Path,
        state: TempDir,
        extra: &[&str],
        port: u16,
    ) -> Proc {
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(state.path().join("wrangler.log"))
            .expect("creating the server log");
        let mut cmd = serve(config, port, state.path());
        cmd.args(extra)
            .stdin(Stdio::null())
            .stdout(log.try_clone().expect("log handle"))
            .stderr(log)
            .process_group(0);
        let started = Instant::now();
        let mut child = cmd.spawn().expect("starting node scripts/serve.mjs");
        let pgid = child.id() as i32;
        register(pgid);
        let base = format!("http://127.0.0.1:{port}");
        let url = format!("{base}/healthz");
        let agent = ureq::AgentBuilder::new()
            .timeout(Duration::from_secs(2))
            .build();
        let deadline = started + Duration::from_secs(90);
        loop {
            if let Ok(r) = agent.get(&url).call() {
                if r.status() == 200 {
                    break;
                }
            }
            if let Ok(Some(status)) = child.try_wait() {
                let log =
                    std::fs::read_to_string(state.path().join("wrangler.log")).unwrap_or_default();
                unregister(pgid);
                panic!("{name}: the worker server exited with {status}; log:\n{log}");
            }
            if Instant::now() > deadline {
                kill_group(pgid);
                unregister(pgid);
                panic!("{name}: no answer on {url} within 90 s");
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        Proc {
            base,
            port,
            pgid,
            cold_start: started.elapsed(),
            child: Some(child),
            state,
            name,
            config: config.to_path_buf(),
            extra: extra.iter().map(|s| s.to_string()).collect(),
        }
    }

    pub fn state_dir(&self) -> &Path {
        self.state.path()
    }

    /// utime + stime of every process in the group, in seconds.
    pub fn cpu_secs(&self) -> f64 {
        // SAFETY: sysconf has no preconditions.
        let tck = unsafe { libc::sysconf(libc::_SC_CLK_TCK) }.max(1) as f64;
        group_processes(self.pgid)
            .iter()
            .map(|p| (p.utime + p.stime) as f64 / tck)
            .sum()
    }

    /// utime + stime of the group's workerd processes only, in seconds
    /// (the rest is wrangler's node process, the local dev proxy).
    pub fn workerd_cpu_secs(&self) -> f64 {
        // SAFETY: sysconf has no preconditions.
        let tck = unsafe { libc::sysconf(libc::_SC_CLK_TCK) }.max(1) as f64;
        group_processes(self.pgid)
            .iter()
            .filter(|p| p.comm.contains("workerd"))
            .map(|p| (p.utime + p.stime) as f64 / tck)
            .sum()
    }

    /// Resident memory of the group's workerd processes, in MiB.
    pub fn workerd_rss_mib(&self) -> f64 {
        self.workerd_processes().iter().map(|(rss, _)| rss).sum()
    }

    /// Each workerd process of the server: its resident memory (MiB) and
    /// how many SQLite database files it holds open. `wrangler dev` runs
    /// two: the runtime, which holds one file per Durable Object it has in
    /// memory (plus a few of its own), and its local proxy, which holds none.
    pub fn workerd_processes(&self) -> Vec<(f64, usize)> {
        group_processes(self.pgid)
            .iter()
            .filter(|p| p.comm.contains("workerd"))
            .map(|p| (rss_kib(p.pid) as f64 / 1024.0, open_sqlite_files(p.pid)))
            .collect()
    }
}

/// Of [`Proc::workerd_processes`], the runtime: the process holding the
/// most SQLite files (at idle it still holds a few of its own, the proxy
/// none); on a tie, the larger.
pub fn runtime_of(processes: &[(f64, usize)]) -> Option<(f64, usize)> {
    processes
        .iter()
        .copied()
        .max_by(|a, b| a.1.cmp(&b.1).then(a.0.total_cmp(&b.0)))
}

fn open_sqlite_files(pid: i32) -> usize {
    let Ok(fds) = std::fs::read_dir(format!("/proc/{pid}/fd")) else {
        return 0;
    };
    fds.flatten()
        .filter_map(|fd| std::fs::read_link(fd.path()).ok())
        .filter(|target| target.extension().is_some_and(|e| e == "sqlite"))
        .count()
}

fn kill_group(pgid: i32) {
    // SAFETY: kill(2) with a negative pid signals the process group.
    unsafe {
        libc::kill(-pgid, libc::SIGKILL);
    }
}

impl Drop for Proc {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            kill_group(self.pgid);
            let _ = child.wait();
            unregister(self.pgid);
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}

struct ProcStat {
    pid: i32,
    comm: String,
    utime: u64,
    stime: u64,
}

fn group_processes(pgid: i32) -> Vec<ProcStat> {
    let Ok(dir) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for entry in dir.flatten() {
        let Some(pid) = entry
            .file_name()
            .to_str()
            .and_then(|s| s.parse::<i32>().ok())
        else {
            continue;
        };
        let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else {
            continue;
        };
        // pid (comm) state ppid pgrp ... utime(14) stime(15)
        let (Some(open), Some(close)) = (stat.find('('), stat.rfind(')')) else {
            continue;
        };
        let comm = stat.get(open + 1..close).unwrap_or_default().to_string();
        let rest: Vec<&str> = stat
            .get(close + 1..)
            .unwrap_or_default()
            .split_whitespace()
            .collect();
        let field = |i: usize| rest.get(i).and_then(|s| s.parse::<u64>().ok());
        if field(2) != Some(pgid as u64) {
            continue;
        }
        out.push(ProcStat {
            pid,
            comm,
            utime: field(11).unwrap_or(0),
            stime: field(12).unwrap_or(0),
        });
    }
    out
}

fn rss_kib(pid: i32) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmRSS:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|v| v.parse().ok())
        })
        .unwrap_or(0)
}
