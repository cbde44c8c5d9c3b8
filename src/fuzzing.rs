//! Test support for the time-boxed fuzz tests (`fuzz_*` in `serialize` and `ingest`).
//!
//! No cargo-fuzz here (it needs a nightly compiler): a seeded generator and a time budget.
//! `cargo test` gives each fuzz test `FUZZ_SECONDS` seconds (2 by default); `make fuzz` gives
//! them minutes. A failing input is printed, to be kept as a regression test.

/// xorshift64*: small, fast, seedable; quality is no concern for mutation.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }

    pub fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    pub fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }

    pub fn chance(&mut self, one_in: u64) -> bool {
        self.next() % one_in == 0
    }
}

/// Runs `case(rng, iteration)` until the budget is spent; returns the number of cases run.
/// A panic inside `case` fails the test with the seed that reproduces it.
pub fn for_a_while(name: &str, mut case: impl FnMut(&mut Rng, u64)) -> u64 {
    let seconds: f64 = std::env::var("FUZZ_SECONDS").ok().and_then(|s| s.parse().ok()).unwrap_or(2.0);
    let seed: u64 = std::env::var("FUZZ_SEED").ok().and_then(|s| s.parse().ok()).unwrap_or(1);
    let started = std::time::Instant::now();
    let mut rng = Rng::new(seed);
    let mut iterations = 0;
    while started.elapsed().as_secs_f64() < seconds {
        case(&mut rng, iterations);
        iterations += 1;
    }
    eprintln!("{name}: {iterations} cases in {:.0} s (FUZZ_SEED={seed})", started.elapsed().as_secs_f64());
    iterations
}

/// A mutation of `input`: flipped bits, overwritten or repeated runs, insertions, cuts.
pub fn mutate(rng: &mut Rng, input: &[u8], interesting: &[&[u8]]) -> Vec<u8> {
    let mut out = input.to_vec();
    for _ in 0..1 + rng.below(4) {
        if out.is_empty() {
            out.push(rng.next() as u8);
            continue;
        }
        let at = rng.below(out.len());
        match rng.below(6) {
            0 => out[at] ^= 1 << rng.below(8),
            1 => out[at] = rng.next() as u8,
            2 => {
                let token = interesting[rng.below(interesting.len())];
                out.splice(at..at, token.iter().copied());
            }
            3 => {
                let end = (at + 1 + rng.below(16)).min(out.len());
                out.drain(at..end);
            }
            4 => {
                let end = (at + 1 + rng.below(64)).min(out.len());
                let run = out[at..end].to_vec();
                out.splice(at..at, run);
            }
            _ => out.truncate(at),
        }
    }
    out
}
