//! Reading the image (and the other fields) out of a request body:
//!
//! * `application/json`: `{"image": "data:image/png;base64,…"}` (the
//!   course's API) or `{"image": "<bare base64>"}`, plus any other string
//!   fields a route asks for;
//! * `multipart/form-data`: a file (or text) field `image`, plus text fields;
//! * `image/*`: the body is the image itself.
//!
//! The body is read up to the size limit first (413 past it); every other
//! failure is a 400 naming the field and what was wrong.

use std::collections::HashMap;

use axum::body::{to_bytes, Body, Bytes};
use axum::extract::{FromRequest, Multipart, Request};
use axum::http::header::CONTENT_TYPE;
use base64::alphabet::STANDARD;
use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};
use base64::Engine;

use crate::error::{ApiError, Reason};

/// Base64 as browsers and Python write it, padding optional.
const BASE64: GeneralPurpose = GeneralPurpose::new(
    &STANDARD,
    GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent),
);

/// The fields of one request: the image's bytes and the text fields asked for.
#[derive(Debug, Default)]
pub struct Upload {
    pub image: Vec<u8>,
    pub fields: HashMap<String, String>,
}

/// Reads the body of `req` (at most `limit` bytes), taking the image and
/// the text fields `wanted` (missing ones are left out).
pub async fn read_upload(req: Request, limit: usize, wanted: &[&str]) -> Result<Upload, ApiError> {
    let content_type = req
        .headers()
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_ascii_lowercase();
    let kind = content_type
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_string();
    if kind == "multipart/form-data" {
        // Read the whole body under the limit, then parse it from memory.
        let (parts, body) = req.into_parts();
        let bytes = read_body(body, limit).await?;
        let req = Request::from_parts(parts, Body::from(bytes));
        let multipart = Multipart::from_request(req, &())
            .await
            .map_err(|e| ApiError::bad_request(format!("multipart body: {}", e.body_text())))?;
        return read_multipart(multipart, wanted).await;
    }
    let bytes = read_body(req.into_body(), limit).await?;
    if kind == "application/json" || kind.ends_with("+json") {
        read_json(&bytes, wanted)
    } else if kind.starts_with("image/") {
        Ok(Upload {
            image: non_empty(bytes.to_vec(), "body")?,
            fields: HashMap::new(),
        })
    } else {
        Err(ApiError::bad_request(format!(
            "content type {}: expected application/json ({{\"image\": \"data:image/png;base64,…\"}}), \
             multipart/form-data with a field `image`, or an image/* body",
            if kind.is_empty() { "missing" } else { &kind }
        )))
    }
}

async fn read_body(body: Body, limit: usize) -> Result<Bytes, ApiError> {
    to_bytes(body, limit).await.map_err(|e| {
        // http-body's length limit error is the only one we cause ourselves.
        let too_large = std::error::Error::source(&e)
            .is_some_and(|s| s.to_string().contains("length limit"))
            || e.to_string().contains("length limit");
        if too_large {
            ApiError::new(
                Reason::BodyTooLarge,
                format!("request body is larger than the limit of {limit} bytes"),
            )
        } else {
            ApiError::bad_request(format!("cannot read the request body: {e}"))
        }
    })
}

fn read_json(bytes: &[u8], wanted: &[&str]) -> Result<Upload, ApiError> {
    let value: serde_json::Value = serde_json::from_slice(bytes)
        .map_err(|e| ApiError::bad_request(format!("body is not valid JSON: {e}")))?;
    let object = value.as_object().ok_or_else(|| {
        ApiError::bad_request(format!(
            "body: expected a JSON object with a field `image`, found {}",
            json_kind(&value)
        ))
    })?;
    let image = match object.get("image") {
        None => {
            return Err(ApiError::bad_request(
                "body: missing field `image` (a data URL or base64 string)",
            ))
        }
        Some(serde_json::Value::String(s)) => decode_image_text(s)?,
        Some(other) => {
            return Err(ApiError::bad_request(format!(
                "field `image`: expected a string (data URL or base64), found {}",
                json_kind(other)
            )))
        }
    };
    let mut fields = HashMap::new();
    for &name in wanted {
        match object.get(name) {
            None | Some(serde_json::Value::Null) => {}
            Some(serde_json::Value::String(s)) => {
                fields.insert(name.to_string(), s.clone());
            }
            Some(serde_json::Value::Number(n)) => {
                fields.insert(name.to_string(), n.to_string());
            }
            Some(other) => {
                return Err(ApiError::bad_request(format!(
                    "field `{name}`: expected a string, found {}",
                    json_kind(other)
                )))
            }
        }
    }
    Ok(Upload { image, fields })
}

async fn read_multipart(mut multipart: Multipart, wanted: &[&str]) -> Result<Upload, ApiError> {
    let mut image = None;
    let mut fields = HashMap::new();
    let mut seen = Vec::new();
    loop {
        let field = multipart
            .next_field()
            .await
            .map_err(|e| ApiError::bad_request(format!("multipart body: {}", e.body_text())))?;
        let Some(field) = field else { break };
        let name = field.name().unwrap_or("").to_string();
        let is_file = field.file_name().is_some();
        let data = field.bytes().await.map_err(|e| {
            ApiError::bad_request(format!("multipart field `{name}`: {}", e.body_text()))
        })?;
        if name == "image" {
            // A text field may carry a data URL or base64, as in the JSON body.
            let text_like = !is_file
                && data
                    .iter()
                    .all(|b| b.is_ascii() && !b.is_ascii_control() || b.is_ascii_whitespace());
            image = Some(if text_like && !data.is_empty() {
                decode_image_text(&String::from_utf8_lossy(&data))?
            } else {
                non_empty(data.to_vec(), "multipart field `image`")?
            });
        } else if wanted.contains(&name.as_str()) {
            let text = String::from_utf8(data.to_vec()).map_err(|_| {
                ApiError::bad_request(format!("multipart field `{name}`: not UTF-8 text"))
            })?;
            fields.insert(name.clone(), text);
        }
        seen.push(name);
    }
    let image = image.ok_or_else(|| {
        ApiError::bad_request(format!(
            "multipart body has no field `image` (fields found: {})",
            if seen.is_empty() {
                "none".to_string()
            } else {
                seen.join(", ")
            }
        ))
    })?;
    Ok(Upload { image, fields })
}

/// The bytes of a data URL (`data:image/png;base64,…`) or of bare base64.
pub fn decode_image_text(text: &str) -> Result<Vec<u8>, ApiError> {
    let text = text.trim();
    let payload = if let Some(rest) = text.strip_prefix("data:") {
        let (meta, data) = rest.split_once(',').ok_or_else(|| {
            ApiError::bad_request(
                "field `image`: data URL without a comma (expected data:image/png;base64,…)",
            )
        })?;
        if !meta
            .split(';')
            .any(|p| p.trim().eq_ignore_ascii_case("base64"))
        {
            return Err(ApiError::bad_request(format!(
                "field `image`: data URL `data:{meta},…` is not base64 (expected data:<type>;base64,…)"
            )));
        }
        data
    } else {
        text
    };
    let compact: String = payload
        .chars()
        .filter(|c| !c.is_ascii_whitespace())
        .collect();
    if compact.is_empty() {
        return Err(ApiError::bad_request(
            "field `image` is empty, expected an image as a data URL or base64",
        ));
    }
    let bytes = BASE64
        .decode(compact.as_bytes())
        .map_err(|e| ApiError::bad_request(format!("field `image`: not valid base64 ({e})")))?;
    non_empty(bytes, "field `image`")
}

fn non_empty(bytes: Vec<u8>, what: &str) -> Result<Vec<u8>, ApiError> {
    if bytes.is_empty() {
        Err(ApiError::bad_request(format!(
            "{what} is empty, expected an image"
        )))
    } else {
        Ok(bytes)
    }
}

fn json_kind(v: &serde_json::Value) -> &'static str {
    match v {
        serde_json::Value::Null => "null",
        serde_json::Value::Bool(_) => "a boolean",
        serde_json::Value::Number(_) => "a number",
        serde_json::Value::String(_) => "a string",
        serde_json::Value::Array(_) => "an array",
        serde_json::Value::Object(_) => "an object",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn data_urls_and_bare_base64_decode_alike() {
        let bytes = b"\x89PNG\r\n\x1a\nabc".to_vec();
        let b64 = base64::engine::general_purpose::STANDARD.encode(&bytes);
        assert_eq!(decode_image_text(&b64).unwrap(), bytes);
        assert_eq!(
            decode_image_text(&format!("data:image/png;base64,{b64}")).unwrap(),
            bytes
        );
        assert_eq!(decode_image_text(b64.trim_end_matches('=')).unwrap(), bytes);
    }

    #[test]
    fn bad_text_names_the_problem() {
        let e = decode_image_text("not base64 !!").unwrap_err();
        assert!(e.message.contains("not valid base64"), "{}", e.message);
        let e = decode_image_text("data:image/png,abc").unwrap_err();
        assert!(e.message.contains("not base64"), "{}", e.message);
        let e = decode_image_text("  ").unwrap_err();
        assert!(e.message.contains("empty"), "{}", e.message);
    }
}
