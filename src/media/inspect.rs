//! What an upload really is, decided from its bytes (never from the
//! client's header): type against an allowlist, a name consistent with the
//! content, image dimensions under decompression-bomb limits, and a
//! thumbnail with the metadata stripped. All of it blocking work, run on
//! tokio's blocking pool by the caller.

use std::fs::File;
use std::io::{BufReader, Read, Write};
use std::path::Path;

use image::{ImageFormat, ImageReader, Limits};
use sha2::{Digest as _, Sha256};

use crate::error::{AppError, AppResult};

/// Types accepted, as detected from the bytes.
pub const ALLOWED_TYPES: &[&str] = &[
    "image/jpeg",
    "image/png",
    "image/gif",
    "image/webp",
    "application/pdf",
    "text/plain",
    "audio/mpeg",
    "audio/ogg",
    "audio/x-wav",
    "audio/mp4",
    "audio/x-m4a",
    "audio/webm",
    "video/mp4",
    "video/webm",
    "video/quicktime",
    "application/zip",
];

/// Longest side of a thumbnail, in pixels.
pub const THUMBNAIL_SIDE: u32 = 320;
/// Largest image accepted, in pixels (width × height).
pub const MAX_PIXELS: u64 = 40_000_000;
const MAX_SIDE: u32 = 20_000;
/// Memory the decoder may allocate.
const MAX_DECODE_BYTES: u64 = 256 * 1024 * 1024;

/// The result of staging an upload: its hash and size.
#[derive(Debug)]
pub struct Staged {
    pub sha256: String,
    pub size: u64,
}

/// Copies `source` into `target`, hashing as it goes, and stops as soon as
/// more than `max_bytes` arrived.
pub fn stage(source: &mut impl Read, target: &Path, max_bytes: u64) -> AppResult<Staged> {
    let mut file = File::create(target).map_err(AppError::from)?;
    let mut hasher = Sha256::new();
    let mut size: u64 = 0;
    let mut buffer = vec![0u8; 64 * 1024];
    loop {
        let read = source.read(&mut buffer).map_err(AppError::from)?;
        if read == 0 {
            break;
        }
        size += read as u64;
        if size > max_bytes {
            return Err(too_big(max_bytes));
        }
        hasher.update(&buffer[..read]);
        file.write_all(&buffer[..read]).map_err(AppError::from)?;
    }
    file.sync_all().map_err(AppError::from)?;
    if size == 0 {
        return Err(AppError::bad_input("file", "the file is empty"));
    }
    Ok(Staged {
        sha256: hex(&hasher.finalize()),
        size,
    })
}

pub fn too_big(max_bytes: u64) -> AppError {
    AppError::bad_input(
        "file",
        format!("the file is larger than {} MiB", max_bytes / (1024 * 1024)),
    )
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|byte| format!("{byte:02x}")).collect()
}

/// A file name safe to store and to put in a header: the last path
/// component, without control characters or quotes, at most 200 bytes.
pub fn sanitize_file_name(raw: &str) -> String {
    let last = raw.rsplit(['/', '\\']).next().unwrap_or_default();
    let mut name: String = last
        .chars()
        .map(|c| {
            if c.is_control() || matches!(c, '"' | '<' | '>' | ':' | '*' | '?' | '|' | ';') {
                '_'
            } else {
                c
            }
        })
        .collect();
    // No leading dots (hidden files) or spaces, whichever order they come in.
    name = name
        .trim_start_matches(|c: char| c == '.' || c.is_whitespace())
        .to_owned();
    while name.len() > 200 {
        name.pop();
    }
    name.truncate(name.trim_end().len());
    if name.is_empty() {
        "file".to_owned()
    } else {
        name
    }
}

/// The type a file name claims, for the extensions we accept.
fn claimed_type(file_name: &str) -> Option<&'static str> {
    let extension = file_name.rsplit_once('.')?.1.to_ascii_lowercase();
    Some(match extension.as_str() {
        "jpg" | "jpeg" => "image/jpeg",
        "png" => "image/png",
        "gif" => "image/gif",
        "webp" => "image/webp",
        "pdf" => "application/pdf",
        "txt" | "text" | "md" | "log" | "csv" => "text/plain",
        "mp3" => "audio/mpeg",
        "ogg" | "oga" | "opus" => "audio/ogg",
        "wav" => "audio/x-wav",
        "m4a" => "audio/x-m4a",
        "mp4" | "m4v" => "video/mp4",
        "webm" => "video/webm",
        "mov" => "video/quicktime",
        "zip" => "application/zip",
        _ => return None,
    })
}

/// Detects the type from the bytes: magic numbers first; otherwise UTF-8
/// text that is not HTML counts as plain text.
pub fn detect_type(path: &Path, file_name: &str) -> AppResult<&'static str> {
    let mut head = Vec::with_capacity(8192);
    File::open(path)
        .and_then(|file| file.take(8192).read_to_end(&mut head))
        .map_err(AppError::internal)?;
    let detected = match infer::get(&head) {
        Some(kind) => ALLOWED_TYPES
            .iter()
            .copied()
            .find(|allowed| *allowed == kind.mime_type())
            .ok_or_else(|| {
                AppError::bad_input(
                    "file",
                    format!("files of type {} are not accepted", kind.mime_type()),
                )
            })?,
        None => {
            let mut text = String::new();
            File::open(path)
                .and_then(|mut file| file.read_to_string(&mut text))
                .map_err(|_| AppError::bad_input("file", "this type of file is not accepted"))?;
            if text.contains('\0') {
                return Err(AppError::bad_input(
                    "file",
                    "this type of file is not accepted",
                ));
            }
            let lower = text.trim_start().to_ascii_lowercase();
            if lower.starts_with("<!doctype html")
                || lower.starts_with("<html")
                || lower.contains("<script")
            {
                return Err(AppError::bad_input("file", "HTML files are not accepted"));
            }
            "text/plain"
        }
    };
    if let Some(claimed) = claimed_type(file_name)
        && claimed != detected
        && !(claimed == "audio/x-m4a" && detected == "audio/mp4")
    {
        return Err(AppError::bad_input(
            "file",
            format!("the content is {detected}, which does not match the name {file_name:?}"),
        ));
    }
    Ok(detected)
}

/// An image's size and its thumbnail.
#[derive(Debug)]
pub struct ImageFacts {
    pub width: u32,
    pub height: u32,
    pub thumbnail: Vec<u8>,
    pub thumbnail_sha256: String,
}

fn limits() -> Limits {
    let mut limits = Limits::default();
    limits.max_image_width = Some(MAX_SIDE);
    limits.max_image_height = Some(MAX_SIDE);
    limits.max_alloc = Some(MAX_DECODE_BYTES);
    limits
}

fn reader(path: &Path, content_type: &str) -> AppResult<ImageReader<BufReader<File>>> {
    let format = match content_type {
        "image/png" => ImageFormat::Png,
        "image/jpeg" => ImageFormat::Jpeg,
        "image/gif" => ImageFormat::Gif,
        "image/webp" => ImageFormat::WebP,
        _ => return Err(AppError::bad_input("file", "not an image")),
    };
    let file = File::open(path).map_err(AppError::internal)?;
    let mut reader = ImageReader::with_format(BufReader::new(file), format);
    reader.limits(limits());
    Ok(reader)
}

/// Reads dimensions (refusing bombs before decoding), then decodes and
/// makes a thumbnail re-encoded from pixels, so no metadata survives.
pub fn image_facts(path: &Path, content_type: &str) -> AppResult<ImageFacts> {
    let unreadable = |_| AppError::bad_input("file", "the image cannot be decoded or is too large");
    let (width, height) = reader(path, content_type)?
        .into_dimensions()
        .map_err(unreadable)?;
    if u64::from(width) * u64::from(height) > MAX_PIXELS {
        return Err(AppError::bad_input(
            "file",
            format!("images may have at most {MAX_PIXELS} pixels"),
        ));
    }
    let image = reader(path, content_type)?.decode().map_err(unreadable)?;
    let thumbnail = image.thumbnail(THUMBNAIL_SIDE, THUMBNAIL_SIDE);
    let mut bytes = std::io::Cursor::new(Vec::new());
    let encoded = if thumbnail.color().has_alpha() {
        thumbnail.write_to(&mut bytes, ImageFormat::Png)
    } else {
        thumbnail.to_rgb8().write_to(&mut bytes, ImageFormat::Jpeg)
    };
    encoded.map_err(AppError::internal)?;
    let thumbnail = bytes.into_inner();
    let thumbnail_sha256 = hex(&Sha256::digest(&thumbnail));
    Ok(ImageFacts {
        width,
        height,
        thumbnail,
        thumbnail_sha256,
    })
}

/// The type of a thumbnail, from its first bytes.
pub fn thumbnail_type(bytes: &[u8]) -> &'static str {
    if bytes.starts_with(b"\x89PNG") {
        "image/png"
    } else {
        "image/jpeg"
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_names_lose_paths_and_dangerous_characters() {
        assert_eq!(sanitize_file_name("../../etc/passwd"), "passwd");
        assert_eq!(sanitize_file_name("C:\\Users\\me\\cat.png"), "cat.png");
        assert_eq!(sanitize_file_name("a\"b<c>\n.txt"), "a_b_c__.txt");
        assert_eq!(sanitize_file_name("..."), "file");
        assert_eq!(sanitize_file_name(&"x".repeat(300)).len(), 200);
    }

    // Fuzzing: whatever name a client sends, what we store and put in a
    // Content-Disposition header is one short, inert path component.
    proptest::proptest! {
        #[test]
        fn any_file_name_becomes_one_safe_component(raw in "(\\PC|\\p{Cc}|[/\\\\.\"])*") {
            let name = sanitize_file_name(&raw);
            proptest::prop_assert!(!name.is_empty() && name.len() <= 200);
            proptest::prop_assert!(!name.contains(['/', '\\', '"', '<', '>', ';']));
            proptest::prop_assert!(!name.chars().any(char::is_control));
            proptest::prop_assert!(!name.starts_with('.'));
            proptest::prop_assert_eq!(sanitize_file_name(&name), name.clone());
        }
    }
}
