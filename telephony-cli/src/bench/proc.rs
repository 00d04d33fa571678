//! What a process's own accounting says about it (Linux's `/proc`), and the few settings a
//! benchmark of many sockets needs: the CPU a process runs on, and how many files it may
//! open.
//!
//! (The command's one exception to `unsafe_code = "deny"`: four libc calls with no safe wrapper
//! in the dependencies, each with its SAFETY note.)
//!
//! The accounting is Linux's: elsewhere the command still builds, CPU affinity is left to the
//! system, and `bench server` says that it needs `/proc`.
#![allow(unsafe_code)]

use std::time::Duration;

/// A process's CPU time and resident memory, read at one moment.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Usage {
    /// User and system time, all threads.
    pub(crate) cpu: Duration,
    /// Resident set size, in bytes.
    pub(crate) rss: u64,
}

/// `pid`'s usage now, from `/proc/PID/stat` (CPU, in clock ticks) and `/proc/PID/status`
/// (`VmRSS`).
pub(crate) fn usage(pid: u32) -> Result<Usage, String> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .map_err(|e| format!("/proc/{pid}/stat: {e} (the server benchmark reads Linux's /proc)"))?;
    // The command name is in parentheses and may hold spaces: the fields follow the last ')'.
    let fields: Vec<&str> = stat
        .rsplit_once(')')
        .map(|(_, rest)| rest.split_whitespace().collect())
        .unwrap_or_default();
    // After the name: state is field 3, utime 14 and stime 15 (1-based, as proc(5) counts).
    let ticks = |i: usize| -> Result<u64, String> {
        fields
            .get(i - 3)
            .and_then(|f| f.parse().ok())
            .ok_or_else(|| format!("/proc/{pid}/stat: no field {i}"))
    };
    let ticks = ticks(14)? + ticks(15)?;
    let status = std::fs::read_to_string(format!("/proc/{pid}/status"))
        .map_err(|e| format!("/proc/{pid}/status: {e}"))?;
    let rss_kib: u64 = status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .ok_or_else(|| format!("/proc/{pid}/status: no VmRSS"))?;
    Ok(Usage {
        cpu: Duration::from_secs_f64(ticks as f64 / clock_ticks() as f64),
        rss: rss_kib * 1024,
    })
}

/// `pid`'s CPU time to the nanosecond: the sum of its threads' `/proc/PID/task/TID/schedstat`
/// (time on a CPU is the first field). `/proc/PID/stat` counts in clock ticks (10 ms), too
/// coarse for what one webhook costs.
pub(crate) fn cpu_ns(pid: u32) -> Result<Duration, String> {
    let tasks = std::fs::read_dir(format!("/proc/{pid}/task"))
        .map_err(|e| format!("/proc/{pid}/task: {e} (the server benchmark reads Linux's /proc)"))?;
    let mut total: u64 = 0;
    for task in tasks.flatten() {
        // A thread that ended between the listing and the read is simply not counted.
        let Ok(stat) = std::fs::read_to_string(task.path().join("schedstat")) else {
            continue;
        };
        total += stat
            .split_whitespace()
            .next()
            .and_then(|ns| ns.parse::<u64>().ok())
            .unwrap_or(0);
    }
    Ok(Duration::from_nanos(total))
}

/// Clock ticks per second (`sysconf(_SC_CLK_TCK)`).
#[cfg(unix)]
fn clock_ticks() -> u64 {
    // SAFETY: sysconf reads a configuration value; it has no preconditions.
    let hz = unsafe { libc::sysconf(libc::_SC_CLK_TCK) };
    u64::try_from(hz).ok().filter(|&h| h > 0).unwrap_or(100)
}

/// Clock ticks per second where there is no `sysconf` (nothing reads `/proc` there).
#[cfg(not(unix))]
fn clock_ticks() -> u64 {
    100
}

/// The CPUs this process may run on, in order.
#[cfg(target_os = "linux")]
pub(crate) fn cpus() -> Vec<usize> {
    // SAFETY: a zeroed cpu_set_t is a valid empty set; sched_getaffinity writes at most its
    // size into it.
    unsafe {
        let mut set: libc::cpu_set_t = std::mem::zeroed();
        if libc::sched_getaffinity(0, std::mem::size_of::<libc::cpu_set_t>(), &mut set) != 0 {
            return Vec::new();
        }
        (0..libc::CPU_SETSIZE as usize)
            .filter(|&c| libc::CPU_ISSET(c, &set))
            .collect()
    }
}

/// The CPUs this process may run on: as many as the system offers, where affinity is not
/// Linux's.
#[cfg(not(target_os = "linux"))]
pub(crate) fn cpus() -> Vec<usize> {
    (0..std::thread::available_parallelism().map_or(1, usize::from)).collect()
}

/// Runs the calling thread (and the threads it starts afterwards) on `cpus` alone.
#[cfg(target_os = "linux")]
pub(crate) fn pin(cpus: &[usize]) -> Result<(), String> {
    // SAFETY: as in `cpus`; CPU_SET is given indexes below CPU_SETSIZE.
    unsafe {
        let mut set: libc::cpu_set_t = std::mem::zeroed();
        for &c in cpus.iter().filter(|&&c| c < libc::CPU_SETSIZE as usize) {
            libc::CPU_SET(c, &mut set);
        }
        if libc::sched_setaffinity(0, std::mem::size_of::<libc::cpu_set_t>(), &set) != 0 {
            return Err(format!(
                "cannot run on CPUs {cpus:?}: {}",
                std::io::Error::last_os_error()
            ));
        }
    }
    Ok(())
}

/// Where affinity is not Linux's, the system places the threads.
#[cfg(not(target_os = "linux"))]
pub(crate) fn pin(cpus: &[usize]) -> Result<(), String> {
    let _ = cpus;
    Ok(())
}

/// Raises this process's limit of open files to its hard limit, and returns it: every call
/// is a socket.
#[cfg(unix)]
pub(crate) fn raise_open_files() -> u64 {
    // SAFETY: getrlimit and setrlimit read and write one plain struct.
    unsafe {
        let mut limit: libc::rlimit = std::mem::zeroed();
        if libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) != 0 {
            return 1024;
        }
        if limit.rlim_cur < limit.rlim_max {
            let raised = libc::rlimit {
                rlim_cur: limit.rlim_max,
                rlim_max: limit.rlim_max,
            };
            if libc::setrlimit(libc::RLIMIT_NOFILE, &raised) == 0 {
                return raised.rlim_cur;
            }
        }
        limit.rlim_cur
    }
}

/// Where there are no resource limits to raise: as many files as a load could want.
#[cfg(not(unix))]
pub(crate) fn raise_open_files() -> u64 {
    u64::MAX / 2
}

/// How busy one CPU has been since boot, from `/proc/stat`: every state but idle and iowait
/// (user, system, and the interrupts and softirqs it ran, which no process is charged with:
/// a TCP packet's processing on loopback, for one).
pub(crate) fn cpu_busy(cpu: usize) -> Result<Duration, String> {
    let stat = std::fs::read_to_string("/proc/stat").map_err(|e| format!("/proc/stat: {e}"))?;
    let name = format!("cpu{cpu}");
    let fields: Vec<u64> = stat
        .lines()
        .find_map(|l| {
            let mut f = l.split_whitespace();
            (f.next() == Some(name.as_str())).then(|| f.filter_map(|x| x.parse().ok()).collect())
        })
        .ok_or_else(|| format!("/proc/stat: no {name}"))?;
    // user nice system idle iowait irq softirq steal guest guest_nice (guest time is also
    // counted in user).
    let get = |i: usize| fields.get(i).copied().unwrap_or(0);
    let busy = get(0) + get(1) + get(2) + get(5) + get(6);
    Ok(Duration::from_secs_f64(busy as f64 / clock_ticks() as f64))
}
