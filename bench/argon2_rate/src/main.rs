//! The Argon2id ceiling of `bench/run`: verifications per second on this machine with the
//! service's parameters, computed the way the hashing pool does (dockgate's `src/identity/hasher.rs`: the
//! `argon2` crate of Cargo.lock, `Params::default()`, one reused buffer per thread), one thread
//! per core unless told otherwise.
//!
//!     cargo run --release --manifest-path bench/argon2_rate/Cargo.toml -- [seconds] [threads]
//!
//! Prints `argon2id m=19456 t=2 p=1 threads=2 seconds=5.00 verifications=… per_second=…`.

use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use argon2::{Algorithm, Argon2, Block, Params, Version};

fn main() -> ExitCode {
    let mut args = std::env::args().skip(1);
    let seconds: f64 = args.next().and_then(|a| a.parse().ok()).unwrap_or(5.0);
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let threads: usize = args.next().and_then(|a| a.parse().ok()).unwrap_or(cores).max(1);
    let params = Params::default();
    let stop = Arc::new(AtomicBool::new(false));
    let done = Arc::new(AtomicU64::new(0));
    let started = Instant::now();
    let workers: Vec<_> = (0..threads)
        .map(|_| {
            let (stop, done, params) = (Arc::clone(&stop), Arc::clone(&done), params.clone());
            std::thread::spawn(move || -> Result<(), argon2::Error> {
                let argon2 = Argon2::new(Algorithm::Argon2id, Version::V0x13, params.clone());
                let mut memory = vec![Block::new(); params.block_count()];
                let salt = [7u8; 16];
                let mut output = [0u8; Params::DEFAULT_OUTPUT_LEN];
                while !stop.load(Ordering::Relaxed) {
                    argon2.hash_password_into_with_memory(
                        b"a benchmark passphrase",
                        &salt,
                        &mut output,
                        &mut memory,
                    )?;
                    done.fetch_add(1, Ordering::Relaxed);
                }
                Ok(())
            })
        })
        .collect();
    std::thread::sleep(Duration::from_secs_f64(seconds));
    stop.store(true, Ordering::Relaxed);
    for worker in workers {
        match worker.join() {
            Ok(Ok(())) => {}
            Ok(Err(error)) => {
                eprintln!("argon2: {error}");
                return ExitCode::FAILURE;
            }
            Err(_) => return ExitCode::FAILURE,
        }
    }
    let elapsed = started.elapsed().as_secs_f64();
    let count = done.load(Ordering::Relaxed);
    println!(
        "argon2id m={} t={} p={} threads={threads} seconds={elapsed:.2} verifications={count} per_second={:.1}",
        params.m_cost(),
        params.t_cost(),
        params.p_cost(),
        count as f64 / elapsed
    );
    ExitCode::SUCCESS
}
