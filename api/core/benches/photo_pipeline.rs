//! Photo pipeline benchmark: SHA-256 + EXIF + 1280 px preview + 320 px thumbnail, both
//! encoded, per 12 MP and 48 MP JPEG (baseline and progressive), beside libvips (pyvips,
//! in-process) at its best on the same work, in the same run: the file's SHA-256, one
//! shrink-on-load decode to the 1280 px preview (rendered once), and the 320 px thumbnail
//! made from that preview.
//!
//! Run: `cargo bench -p xuncha-core --bench photo_pipeline` (needs `python3 -m pip install
//! pyvips` and Debian's `libvips42`; without them only our side is measured).

#![allow(unsafe_code)] // the counting allocator below is the only unsafe code, and only here
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::alloc::{GlobalAlloc, Layout, System};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

/// Tracks live heap bytes and their peak, to report the pipeline's peak memory.
struct CountingAlloc;
static LIVE: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);

unsafe impl GlobalAlloc for CountingAlloc {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let ptr = unsafe { System.alloc(layout) };
        if !ptr.is_null() {
            let live = LIVE.fetch_add(layout.size(), Ordering::Relaxed) + layout.size();
            PEAK.fetch_max(live, Ordering::Relaxed);
        }
        ptr
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { System.dealloc(ptr, layout) };
        LIVE.fetch_sub(layout.size(), Ordering::Relaxed);
    }
}

#[global_allocator]
static ALLOCATOR: CountingAlloc = CountingAlloc;

/// A photo-like picture: smooth colour fields, edges and sensor-like noise, so the JPEG
/// has realistic entropy (Huffman decoding dominates real decode time).
fn photo_like(width: u32, height: u32) -> Vec<u8> {
    let mut state: u32 = 0x9E37_79B9;
    let mut pixels = Vec::with_capacity(width as usize * height as usize * 3);
    for y in 0..height {
        for x in 0..width {
            state ^= state << 13;
            state ^= state >> 17;
            state ^= state << 5;
            let noise = (state % 24) as i32 - 12;
            let fx = x as f32 / width as f32;
            let fy = y as f32 / height as f32;
            let stripe = if ((x / 97) + (y / 61)) % 7 == 0 {
                60
            } else {
                0
            };
            let base = [
                (90.0 + 120.0 * fx) as i32 + stripe,
                (140.0 - 60.0 * fy + 40.0 * (fx * 12.0).sin()) as i32,
                (80.0 + 100.0 * fy * fx) as i32 - stripe / 2,
            ];
            pixels.extend(base.map(|c| (c + noise).clamp(0, 255) as u8));
        }
    }
    pixels
}

fn write_jpeg(path: &Path, width: u32, height: u32, progressive: bool) {
    let pixels = photo_like(width, height);
    let mut out = Vec::new();
    let mut encoder = jpeg_encoder::Encoder::new(&mut out, 90);
    encoder.set_progressive(progressive);
    encoder
        .encode(
            &pixels,
            width as u16,
            height as u16,
            jpeg_encoder::ColorType::Rgb,
        )
        .unwrap();
    std::fs::write(path, out).unwrap();
}

fn median(mut samples: Vec<f64>) -> f64 {
    samples.sort_by(|a, b| a.total_cmp(b));
    samples[samples.len() / 2]
}

struct Row {
    name: String,
    ours_ms: f64,
    ours_peak_mb: f64,
    vips: Option<(f64, f64)>,
    /// Where the time goes: (SHA-256 ms, decode to at least 1280 px ms), ours and libvips'.
    stages: (f64, f64),
    vips_stages: Option<(f64, f64)>,
}

const VIPS_SCRIPT: &str = r#"
import hashlib, json, sys, time
import pyvips
path, runs = sys.argv[1], int(sys.argv[2])
# In memory beforehand, as the bytes are on our side.
data = open(path, "rb").read()
def once():
    # The same work: the file's SHA-256, one shrink-on-load decode to the 1280 px preview
    # (rendered once into memory, so that both outputs share it), the 320 px thumbnail
    # from the preview, both saved as JPEG.
    hashlib.sha256(data).hexdigest()
    preview = pyvips.Image.thumbnail_buffer(data, 1280).copy_memory()
    preview.jpegsave_buffer(Q=82, strip=True)
    preview.thumbnail_image(320).jpegsave_buffer(Q=82, strip=True)
def status(field):
    for line in open("/proc/self/status"):
        if line.startswith(field + ":"):
            return int(line.split()[1])
pyvips.cache_set_max(0)
small = pyvips.Image.black(64, 48).jpegsave_buffer()
pyvips.Image.thumbnail_buffer(small, 32)
# Reset the high-water mark, then measure the peak above the resident set before the run.
open("/proc/self/clear_refs", "w").write("5")
base = status("VmRSS")
once()
peak = status("VmHWM")
times = []
for _ in range(runs):
    t = time.perf_counter(); once(); times.append((time.perf_counter() - t) * 1000)
times.sort()
def median_of(f):
    t = []
    for _ in range(runs):
        s = time.perf_counter(); f(); t.append((time.perf_counter() - s) * 1000)
    t.sort()
    return t[len(t) // 2]
sha_ms = median_of(lambda: hashlib.sha256(data).hexdigest())
decode_ms = median_of(lambda: pyvips.Image.thumbnail_buffer(data, 1280).copy_memory())
print(json.dumps({"ms": times[len(times) // 2], "peak_mb": (peak - base) / 1024,
                  "sha_ms": sha_ms, "decode_ms": decode_ms}))
"#;

/// libvips' time and peak, and its stages (SHA-256, shrink-on-load decode to 1280 px).
fn vips(path: &Path, runs: usize) -> Option<((f64, f64), (f64, f64))> {
    let output = Command::new("python3")
        .args(["-c", VIPS_SCRIPT, path.to_str()?, &runs.to_string()])
        .env("VIPS_CONCURRENCY", "1")
        .output()
        .ok()?;
    if !output.status.success() {
        eprintln!(
            "pyvips unavailable: {}",
            String::from_utf8_lossy(&output.stderr)
                .lines()
                .last()
                .unwrap_or("")
        );
        return None;
    }
    let value: serde_json::Value = serde_json::from_slice(&output.stdout).ok()?;
    Some((
        (value["ms"].as_f64()?, value["peak_mb"].as_f64()?),
        (value["sha_ms"].as_f64()?, value["decode_ms"].as_f64()?),
    ))
}

/// Uploads stop at 40 MP (`photo::MAX_PIXELS`); the 48 MP cases measure the pipeline
/// itself, for phones whose full-resolution mode exceeds the upload limit.
const BENCH_MAX_PIXELS: u64 = 50_000_000;

/// Our stages on their own: the SHA-256, and jpeg-decoder's scaled decode to at least
/// 1280 px (the decode `photo::process` makes).
fn stages(bytes: &[u8], runs: usize) -> (f64, f64) {
    let timed = |f: &dyn Fn()| {
        median(
            (0..runs)
                .map(|_| {
                    let started = Instant::now();
                    f();
                    started.elapsed().as_secs_f64() * 1000.0
                })
                .collect(),
        )
    };
    let sha = timed(&|| {
        assert_eq!(xuncha_core::photo::sha256_hex(bytes).len(), 64);
    });
    let decode = timed(&|| {
        let mut decoder = jpeg_decoder::Decoder::new(std::io::Cursor::new(bytes));
        decoder.read_info().unwrap();
        decoder.scale(1280, 1280).unwrap();
        assert!(!decoder.decode().unwrap().is_empty());
    });
    (sha, decode)
}

fn main() {
    let dir = std::env::temp_dir().join("xuncha-photo-bench");
    std::fs::create_dir_all(&dir).unwrap();
    let cases: [(&str, u32, u32, bool, usize); 4] = [
        ("12 MP baseline", 4000, 3000, false, 9),
        ("12 MP progressive", 4000, 3000, true, 9),
        ("48 MP baseline", 8000, 6000, false, 5),
        ("48 MP progressive", 8000, 6000, true, 5),
    ];
    let mut rows = Vec::new();
    for (name, width, height, progressive, runs) in cases {
        let path: PathBuf = dir.join(format!(
            "{width}x{height}-{}.jpg",
            if progressive { "p" } else { "b" }
        ));
        if !path.exists() {
            write_jpeg(&path, width, height, progressive);
        }
        let bytes = std::fs::read(&path).unwrap();
        // Warm-up, then the peak of one run, then timed runs.
        xuncha_core::photo::process(&bytes, chrono_tz::Asia::Shanghai, BENCH_MAX_PIXELS).unwrap();
        let before = LIVE.load(Ordering::Relaxed);
        PEAK.store(before, Ordering::Relaxed);
        xuncha_core::photo::process(&bytes, chrono_tz::Asia::Shanghai, BENCH_MAX_PIXELS).unwrap();
        let ours_peak_mb = (PEAK.load(Ordering::Relaxed) - before) as f64 / (1024.0 * 1024.0);

        let mut samples = Vec::new();
        for _ in 0..runs {
            let started = Instant::now();
            // What an upload does: the file's SHA-256, then the pipeline.
            assert_eq!(xuncha_core::photo::sha256_hex(&bytes).len(), 64);
            let processed =
                xuncha_core::photo::process(&bytes, chrono_tz::Asia::Shanghai, BENCH_MAX_PIXELS)
                    .unwrap();
            samples.push(started.elapsed().as_secs_f64() * 1000.0);
            assert!(!processed.preview.is_empty());
        }
        let vips = vips(&path, runs);
        let row = Row {
            name: format!("{name} ({:.1} MB)", bytes.len() as f64 / 1e6),
            ours_ms: median(samples),
            ours_peak_mb,
            vips: vips.map(|(whole, _)| whole),
            stages: stages(&bytes, runs),
            vips_stages: vips.map(|(_, stages)| stages),
        };
        eprintln!("measured {}", row.name);
        rows.push(row);
    }

    println!(
        "| JPEG | Xuncha median ms | Xuncha peak heap MB | libvips median ms | libvips peak RSS MB | Xuncha ÷ libvips time |"
    );
    println!("|---|---:|---:|---:|---:|---:|");
    for row in &rows {
        let (vips_ms, vips_mb, ratio) = match row.vips {
            Some((ms, mb)) => (
                format!("{ms:.1}"),
                format!("{mb:.1}"),
                format!("{:.2}", row.ours_ms / ms),
            ),
            None => ("–".into(), "–".into(), "–".into()),
        };
        println!(
            "| {} | {:.1} | {:.1} | {} | {} | {} |",
            row.name, row.ours_ms, row.ours_peak_mb, vips_ms, vips_mb, ratio
        );
    }
    println!();
    println!(
        "| JPEG | Xuncha SHA-256 ms | Xuncha decode ms | libvips SHA-256 ms | libvips decode ms | decode ÷ libvips |"
    );
    println!("|---|---:|---:|---:|---:|---:|");
    for row in &rows {
        let (sha, decode) = row.stages;
        let (vips_sha, vips_decode, ratio) = match row.vips_stages {
            Some((s, d)) => (
                format!("{s:.1}"),
                format!("{d:.1}"),
                format!("{:.2}", decode / d),
            ),
            None => ("–".into(), "–".into(), "–".into()),
        };
        println!(
            "| {} | {sha:.1} | {decode:.1} | {vips_sha} | {vips_decode} | {ratio} |",
            row.name
        );
    }
}
