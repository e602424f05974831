//! A 64-bit difference hash (dHash) of the picture: near-identical photos (re-encoded,
//! resized, lightly cropped) differ in few bits. Stored as four 16-bit bands so the
//! database can find candidates by equality: two hashes within 3 bits share a band.

/// Photos whose hashes differ in at most this many bits count as near-identical.
pub const SIMILAR_MAX_DISTANCE: u32 = 3;

/// dHash over a grayscale image: shrink to 9×8 by area averaging, then one bit per
/// horizontally adjacent pair.
pub fn dhash(gray: &[u8], width: usize, height: usize) -> u64 {
    let mut cells = [0f32; 9 * 8];
    if width == 0 || height == 0 || gray.len() < width * height {
        return 0;
    }
    for (cell_index, cell) in cells.iter_mut().enumerate() {
        let (cx, cy) = (cell_index % 9, cell_index / 9);
        let (x0, x1) = (
            cx * width / 9,
            ((cx + 1) * width / 9).max(cx * width / 9 + 1),
        );
        let (y0, y1) = (
            cy * height / 8,
            ((cy + 1) * height / 8).max(cy * height / 8 + 1),
        );
        let mut sum = 0u64;
        let mut count = 0u64;
        for y in y0..y1.min(height) {
            for x in x0..x1.min(width) {
                sum += u64::from(gray[y * width + x]);
                count += 1;
            }
        }
        *cell = sum as f32 / count.max(1) as f32;
    }
    let mut hash = 0u64;
    for y in 0..8 {
        for x in 0..8 {
            hash <<= 1;
            if cells[y * 9 + x] < cells[y * 9 + x + 1] {
                hash |= 1;
            }
        }
    }
    hash
}

pub fn hamming(a: u64, b: u64) -> u32 {
    (a ^ b).count_ones()
}

/// The four 16-bit bands, as stored.
pub fn phash_bands(hash: u64) -> [i32; 4] {
    [48, 32, 16, 0].map(|shift| i32::from((hash >> shift) as u16))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn gradient(width: usize, height: usize, flip: bool) -> Vec<u8> {
        (0..width * height)
            .map(|i| {
                let (x, y) = (i % width, i / width);
                let v = ((x * 255 / width) + (y * 40 / height)) as u8;
                if flip { 255 - v } else { v }
            })
            .collect()
    }

    #[test]
    fn the_same_picture_at_another_size_hashes_alike() {
        let a = dhash(&gradient(320, 240, false), 320, 240);
        let b = dhash(&gradient(160, 120, false), 160, 120);
        assert!(hamming(a, b) <= SIMILAR_MAX_DISTANCE);
    }

    #[test]
    fn a_different_picture_hashes_apart() {
        let a = dhash(&gradient(320, 240, false), 320, 240);
        let b = dhash(&gradient(320, 240, true), 320, 240);
        assert!(hamming(a, b) > 32);
    }

    #[test]
    fn close_hashes_share_a_band() {
        let a: u64 = 0x1234_5678_9ABC_DEF0;
        let b = a ^ 0b1 ^ (1 << 20) ^ (1 << 40);
        assert_eq!(hamming(a, b), 3);
        let shared = phash_bands(a)
            .iter()
            .zip(phash_bands(b))
            .filter(|(x, y)| **x == *y)
            .count();
        assert!(shared >= 1);
    }
}
