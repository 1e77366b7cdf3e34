//! Load generators: a second process, started by a measured run from the case's own binary
//! in a hidden mode, that plays the clients (bots, a file producer, request drivers).
//!
//! Keeping the load in its own process keeps the server's figures the server's: the
//! generator's CPU time, memory and threads are recorded apart ([`crate::model::figure::LOADGEN_CPU`]
//! and friends). On two cores it still competes for CPU, which is why the report says how
//! much it used.
//!
//! The run and its generator talk over the generator's standard streams: it prints `ready`
//! when set up, waits for `go`, and reads `stop` (or end of input) as the request to wind
//! down. Everything else it records goes into a [`RunRecord`] that joins the run's.

use std::{
    fs::File,
    io::{BufRead, BufReader, Write},
    os::fd::{AsRawFd, FromRawFd},
    path::PathBuf,
    process::{Child, ChildStdin, Command, Stdio},
    sync::{
        Arc, Condvar, Mutex, PoisonError,
        atomic::{AtomicBool, AtomicU64, Ordering},
        mpsc,
    },
    thread::JoinHandle,
    time::{Duration, Instant},
};

use anyhow::{Context, anyhow, bail};
use serde::{Deserialize, Serialize, de::DeserializeOwned};

use crate::{
    host::procfs,
    model::figure::{Figure, Hist, Note},
    report::record::RunRecord,
    run::process::{self, PARENT_PID_VAR},
    stats::latency,
};

/// The hidden first argument that puts a case binary in load-generator mode.
pub const LOAD_FLAG: &str = "__casebook-load";

/// How long a generator may take to get ready (bind thousands of sockets, say).
const READY_TIMEOUT: Duration = Duration::from_secs(60);
/// How long `finish` waits for a generator that was told to stop.
const FINISH_TIMEOUT: Duration = Duration::from_secs(60);

/// What a run knows to start generators: the binary, what every generator is handed, and
/// where their files go.
#[derive(Clone, Debug)]
pub(crate) struct LoadEnv {
    executable: PathBuf,
    params: serde_json::Value,
    shared: serde_json::Value,
    scratch: PathBuf,
    started: usize,
}

impl LoadEnv {
    pub(crate) fn new(
        executable: PathBuf,
        params: serde_json::Value,
        shared: serde_json::Value,
        scratch: PathBuf,
    ) -> Self {
        LoadEnv { executable, params, shared, scratch, started: 0 }
    }
}

/// The file a generator is started with.
#[derive(Debug, Serialize, Deserialize)]
pub(crate) struct LoadFile {
    pub(crate) params: serde_json::Value,
    pub(crate) shared: serde_json::Value,
    spec: serde_json::Value,
    scratch: PathBuf,
    result_path: PathBuf,
}

/// What a generator reports when it ends: its record and what it cost.
#[derive(Debug, Default, Serialize, Deserialize)]
struct LoadResult {
    record: RunRecord,
    cost: LoadCost,
}

/// What a generator's load cost it, from its `go` to its end (memory: its whole life).
#[derive(Clone, Copy, Debug, Default, Serialize, Deserialize)]
pub(crate) struct LoadCost {
    pub(crate) cpu_s: f64,
    pub(crate) wall_s: f64,
    pub(crate) peak_rss_bytes: f64,
    /// Sampled by the run that started it.
    pub(crate) peak_threads: f64,
}

/// The case-defined parameters of one generator, as `Case::load` receives them.
#[derive(Clone, Debug)]
pub struct LoadSpec {
    value: serde_json::Value,
}

impl LoadSpec {
    pub fn decode<T: DeserializeOwned>(&self) -> anyhow::Result<T> {
        serde_json::from_value(self.value.clone()).context("bad load generator spec")
    }
}

/// A running generator, seen from the measured run.
#[derive(Debug)]
pub struct LoadGen {
    child: Option<Child>,
    stdin: Option<ChildStdin>,
    lines: mpsc::Receiver<String>,
    log: PathBuf,
    result_path: PathBuf,
    peak_threads: Arc<AtomicU64>,
    sampling: Arc<AtomicBool>,
    sampler: Option<JoinHandle<()>>,
}

impl LoadGen {
    pub(crate) fn start(env: &mut LoadEnv, spec: serde_json::Value) -> anyhow::Result<LoadGen> {
        env.started += 1;
        let n = env.started;
        let spec_path = env.scratch.join(format!("load-{n}.spec.json"));
        let result_path = env.scratch.join(format!("load-{n}.result.json"));
        let log = env.scratch.join(format!("load-{n}.log"));
        let file = LoadFile {
            params: env.params.clone(),
            shared: env.shared.clone(),
            spec,
            scratch: env.scratch.clone(),
            result_path: result_path.clone(),
        };
        std::fs::write(&spec_path, serde_json::to_vec(&file)?).context("cannot write the load generator's spec")?;
        // Same process group as the run: the harness stops both together.
        let mut command = Command::new(&env.executable);
        // A run pinned by --cores hands its clients the CPUs it was not given.
        if let Some(cpus) = crate::host::cpus::load_cpus() {
            use std::os::unix::process::CommandExt;
            // SAFETY: the closure only calls sched_setaffinity, which is async-signal-safe.
            unsafe {
                command.pre_exec(move || crate::host::cpus::pin(&cpus));
            }
        }
        let mut child = command
            .arg(LOAD_FLAG)
            .arg(&spec_path)
            .env(PARENT_PID_VAR, std::process::id().to_string())
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(File::create(&log).context("cannot create the load generator's log")?)
            .spawn()
            .context("cannot start the load generator")?;
        let stdout = child.stdout.take().context("the load generator has no stdout")?;
        let (tx, lines) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        let (peak_threads, sampling) = (Arc::new(AtomicU64::new(0)), Arc::new(AtomicBool::new(true)));
        let pid = child.id();
        let sampler = {
            let (peak, sampling) = (Arc::clone(&peak_threads), Arc::clone(&sampling));
            std::thread::spawn(move || {
                while sampling.load(Ordering::Relaxed) {
                    if let Some(threads) = procfs::thread_count(pid) {
                        peak.fetch_max(threads, Ordering::Relaxed);
                    }
                    std::thread::sleep(Duration::from_millis(5));
                }
            })
        };
        let stdin = child.stdin.take();
        let mut load = LoadGen {
            child: Some(child),
            stdin,
            lines,
            log,
            result_path,
            peak_threads,
            sampling,
            sampler: Some(sampler),
        };
        load.wait_for_line("ready", READY_TIMEOUT)?;
        Ok(load)
    }

    fn failure(&mut self, what: &str) -> anyhow::Error {
        let status = self.child.as_mut().and_then(|c| c.try_wait().ok().flatten());
        let log = std::fs::read_to_string(&self.log).unwrap_or_default();
        let why = process::last_error_line(&log);
        match status {
            Some(status) => anyhow!("the load generator {what} ({status}): {why}"),
            None => anyhow!("the load generator {what}: {why}"),
        }
    }

    fn wait_for_line(&mut self, expected: &str, timeout: Duration) -> anyhow::Result<()> {
        match self.lines.recv_timeout(timeout) {
            Ok(line) if line == expected => Ok(()),
            Ok(other) => Err(anyhow!("the load generator said '{other}', expected '{expected}'")),
            Err(mpsc::RecvTimeoutError::Timeout) => {
                Err(self.failure(&format!("was not {expected} within {} s", timeout.as_secs())))
            }
            Err(mpsc::RecvTimeoutError::Disconnected) => Err(self.failure(&format!("exited before it was {expected}"))),
        }
    }

    fn say(&mut self, word: &str) -> anyhow::Result<()> {
        let stdin = self.stdin.as_mut().context("the load generator was already told to stop")?;
        writeln!(stdin, "{word}")
            .and_then(|()| stdin.flush())
            .map_err(|_| self.failure(&format!("could not be told to {word}")))
    }

    /// Tells the generator to start its load.
    pub fn go(&mut self) -> anyhow::Result<()> {
        self.say("go")
    }

    /// Asks an open-ended generator to wind down (it sees `GenCtx::should_stop`).
    pub fn stop(&mut self) -> anyhow::Result<()> {
        self.say("stop")
    }

    /// Waits for the generator to end; its record and what it cost. (`LoadGen::finish`, in
    /// `child`, adds both to the run's record.)
    pub(crate) fn wait(mut self) -> anyhow::Result<(RunRecord, LoadCost)> {
        // End of input is the generator's last word: stop if you have not.
        drop(self.stdin.take());
        let mut child = self.child.take().context("the load generator is gone")?;
        let deadline = Instant::now() + FINISH_TIMEOUT;
        let status = loop {
            if let Some(status) = child.try_wait()? {
                break status;
            }
            if Instant::now() > deadline {
                let _ = child.kill();
                let _ = child.wait();
                bail!("the load generator did not end within {} s of being told to stop", FINISH_TIMEOUT.as_secs());
            }
            std::thread::sleep(Duration::from_millis(5));
        };
        self.stop_sampling();
        if !status.success() {
            self.child = Some(child);
            return Err(self.failure("failed"));
        }
        let result: LoadResult =
            serde_json::from_slice(&std::fs::read(&self.result_path).context("the load generator wrote no result")?)
                .context("the load generator's result is not valid")?;
        let cost = LoadCost { peak_threads: self.peak_threads.load(Ordering::Relaxed) as f64, ..result.cost };
        Ok((result.record, cost))
    }

    fn stop_sampling(&mut self) {
        self.sampling.store(false, Ordering::Relaxed);
        if let Some(sampler) = self.sampler.take() {
            let _ = sampler.join();
        }
    }
}

impl Drop for LoadGen {
    /// A generator the run did not finish (the run failed first) is killed, not left behind.
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
        self.stop_sampling();
    }
}

/// The generator's side: what `Case::load` receives.
#[derive(Debug)]
pub struct GenCtx {
    scratch: PathBuf,
    record: RunRecord,
    protocol: File,
    commands: Arc<Commands>,
    go_at: Option<(Instant, procfs::Rusage)>,
    started: Instant,
}

#[derive(Debug, Default)]
struct Commands {
    state: Mutex<(bool, bool)>,
    changed: Condvar,
    stop: AtomicBool,
}

impl GenCtx {
    /// A directory of the run's, shared with the measured process (the run's scratch).
    pub fn scratch(&self) -> &std::path::Path {
        &self.scratch
    }

    /// Tells the run that the generator is set up; the run's `start_load` returns then.
    pub fn ready(&mut self) -> anyhow::Result<()> {
        writeln!(self.protocol, "ready").and_then(|()| self.protocol.flush()).context("cannot reach the run")
    }

    /// Waits for the run's `go`. Returns false if the run stopped it (or went away) first.
    pub fn wait_go(&mut self) -> bool {
        let (lock, changed) = (&self.commands.state, &self.commands.changed);
        let mut state = lock.lock().unwrap_or_else(PoisonError::into_inner);
        while !state.0 && !state.1 {
            state = changed.wait(state).unwrap_or_else(PoisonError::into_inner);
        }
        self.go_at = Some((Instant::now(), procfs::rusage_self()));
        state.0
    }

    /// Whether the run asked the generator to stop (or went away).
    pub fn should_stop(&self) -> bool {
        self.commands.stop.load(Ordering::Relaxed)
    }

    pub fn figure(&mut self, figure: Figure, value: f64) {
        if value.is_finite() {
            self.record.figures.insert(figure.key.into(), value);
        }
    }

    pub fn histogram(&mut self, hist: Hist, histogram: &hdrhistogram::Histogram<u64>) -> anyhow::Result<()> {
        self.record.histograms.insert(hist.key.into(), latency::encode(histogram)?);
        Ok(())
    }

    pub fn note(&mut self, note: Note, value: impl Into<String>) {
        self.record.notes.entry(note.key.into()).or_default().push(value.into());
    }
}

/// Reads the run's commands: `go`, `stop`, and end of input (the run is done with us).
fn listen(commands: Arc<Commands>) {
    let set = |go: bool, stop: bool| {
        let mut state = commands.state.lock().unwrap_or_else(PoisonError::into_inner);
        state.0 |= go;
        state.1 |= stop;
        if stop {
            commands.stop.store(true, Ordering::Relaxed);
        }
        commands.changed.notify_all();
    };
    for line in std::io::stdin().lock().lines() {
        match line.as_deref().map(str::trim) {
            Ok("go") => set(true, false),
            Ok("stop") => set(false, true),
            Ok(_) => {}
            Err(_) => break,
        }
    }
    set(false, true);
}

impl GenCtx {
    /// Load-generator mode starts here: takes the protocol out of stdout (anything the case
    /// prints goes to the log instead), reads the spec, and starts listening for commands.
    pub(crate) fn open() -> anyhow::Result<(GenCtx, LoadFile, LoadSpec)> {
        process::die_with_starter();
        // SAFETY: dup and dup2 on this process's own standard descriptors.
        let protocol = unsafe {
            let fd = libc::dup(std::io::stdout().as_raw_fd());
            if fd < 0 {
                bail!("cannot duplicate stdout");
            }
            libc::dup2(std::io::stderr().as_raw_fd(), std::io::stdout().as_raw_fd());
            File::from_raw_fd(fd)
        };
        let spec_path = std::env::args_os().nth(2).context("load mode needs a spec path")?;
        let mut file: LoadFile = serde_json::from_slice(&std::fs::read(&spec_path)?)?;
        let spec = LoadSpec { value: std::mem::take(&mut file.spec) };
        let commands = Arc::new(Commands::default());
        {
            let commands = Arc::clone(&commands);
            std::thread::spawn(move || listen(commands));
        }
        let generator = GenCtx {
            scratch: file.scratch.clone(),
            record: RunRecord::default(),
            protocol,
            commands,
            go_at: None,
            started: Instant::now(),
        };
        Ok((generator, file, spec))
    }

    /// Writes what the generator recorded and what its load cost, for the run to collect.
    pub(crate) fn close(self, file: &LoadFile) -> anyhow::Result<()> {
        let end = procfs::rusage_self();
        // The load's cost is counted from `go`: binding sockets and building inputs is set-up.
        let (from, before) = self.go_at.unwrap_or((self.started, procfs::Rusage::default()));
        let cost = LoadCost {
            cpu_s: (end.user_s + end.system_s) - (before.user_s + before.system_s),
            wall_s: from.elapsed().as_secs_f64(),
            peak_rss_bytes: procfs::peak_rss_self() as f64,
            peak_threads: 0.0,
        };
        let result = LoadResult { record: self.record, cost };
        std::fs::write(&file.result_path, serde_json::to_vec(&result)?)?;
        Ok(())
    }
}
