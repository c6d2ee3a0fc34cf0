//! Darknet `.cfg` files: `[section]` headers followed by `key=value` lines.
//!
//! Parsing follows Darknet's reader (whitespace anywhere in a line is ignored, `#` and `;`
//! start comment lines) but, unlike Darknet, every problem is an error that names the file,
//! the line and the key instead of a silent default.

use crate::error::{Error, Result};
use std::path::{Path, PathBuf};

/// Section names that Darknet knows. A name outside this list is a typo or a file that is not a
/// Darknet cfg, and is rejected at parse time; whether a known section is *supported* is decided
/// when a network is built from the cfg.
const DARKNET_SECTIONS: &[&str] = &[
    "net",
    "network",
    "convolutional",
    "conv",
    "deconvolutional",
    "deconv",
    "connected",
    "conn",
    "maxpool",
    "max",
    "avgpool",
    "avg",
    "local",
    "lstm",
    "rnn",
    "gru",
    "crnn",
    "crop",
    "cost",
    "detection",
    "region",
    "yolo",
    "iseg",
    "route",
    "upsample",
    "shortcut",
    "reorg",
    "dropout",
    "softmax",
    "soft",
    "normalization",
    "lrn",
    "batchnorm",
    "activation",
    "logistic",
    "l2norm",
    "scale_channels",
    "sam",
];

#[derive(Debug, Clone, PartialEq)]
pub struct Entry {
    pub key: String,
    pub value: String,
    pub line: usize,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Section {
    pub name: String,
    /// 1-based line of the `[name]` header.
    pub line: usize,
    pub options: Vec<Entry>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Cfg {
    /// Where the text came from, for error messages.
    pub path: PathBuf,
    pub sections: Vec<Section>,
}

impl Cfg {
    pub fn load(path: &Path) -> Result<Cfg> {
        let text = std::fs::read_to_string(path).map_err(|e| Error::io(path, e))?;
        Cfg::parse(&text, path)
    }

    pub fn parse(text: &str, path: &Path) -> Result<Cfg> {
        let err = |line: usize, message: String| Error::Cfg {
            path: path.to_path_buf(),
            line,
            message,
        };
        let mut sections: Vec<Section> = Vec::new();
        for (index, raw) in text.lines().enumerate() {
            let line_no = index + 1;
            let line: String = raw.chars().filter(|c| !c.is_whitespace()).collect();
            if line.is_empty() || line.starts_with('#') || line.starts_with(';') {
                continue;
            }
            if let Some(rest) = line.strip_prefix('[') {
                let name = rest.strip_suffix(']').ok_or_else(|| {
                    err(
                        line_no,
                        format!("section header `{}` lacks its `]`", raw.trim()),
                    )
                })?;
                if !DARKNET_SECTIONS.contains(&name) {
                    return Err(err(line_no, format!("unknown section [{name}]")));
                }
                sections.push(Section {
                    name: name.to_string(),
                    line: line_no,
                    options: Vec::new(),
                });
                continue;
            }
            let Some((key, value)) = line.split_once('=') else {
                return Err(err(
                    line_no,
                    format!("expected `key=value`, found `{}`", raw.trim()),
                ));
            };
            if key.is_empty() {
                return Err(err(line_no, format!("empty key in `{}`", raw.trim())));
            }
            let Some(section) = sections.last_mut() else {
                return Err(err(
                    line_no,
                    format!("`{key}` appears before any [section]"),
                ));
            };
            section.options.push(Entry {
                key: key.to_string(),
                value: value.to_string(),
                line: line_no,
            });
        }
        if sections.is_empty() {
            return Err(err(1, "no [section] found: not a Darknet cfg".into()));
        }
        Ok(Cfg {
            path: path.to_path_buf(),
            sections,
        })
    }

    /// A view of one section that reports errors against this file.
    pub fn section(&self, index: usize) -> SectionView<'_> {
        SectionView {
            path: &self.path,
            section: &self.sections[index],
        }
    }
}

/// Typed access to a section's values; a malformed value is an error naming file, line and key.
#[derive(Clone, Copy)]
pub struct SectionView<'a> {
    pub path: &'a Path,
    pub section: &'a Section,
}

impl<'a> SectionView<'a> {
    pub fn name(&self) -> &'a str {
        &self.section.name
    }

    pub fn line(&self) -> usize {
        self.section.line
    }

    fn find(&self, key: &str) -> Option<&'a Entry> {
        // Darknet takes the first occurrence of a key.
        self.section.options.iter().find(|o| o.key == key)
    }

    pub fn error(&self, line: usize, message: impl Into<String>) -> Error {
        Error::Cfg {
            path: self.path.to_path_buf(),
            line,
            message: message.into(),
        }
    }

    fn bad_value(&self, option: &Entry, expected: &str) -> Error {
        self.error(
            option.line,
            format!(
                "[{}] key `{}`: `{}` is not {expected}",
                self.section.name, option.key, option.value
            ),
        )
    }

    pub fn has(&self, key: &str) -> bool {
        self.find(key).is_some()
    }

    pub fn str_or(&self, key: &str, default: &'a str) -> &'a str {
        self.find(key).map_or(default, |o| o.value.as_str())
    }

    pub fn int_or(&self, key: &str, default: i64) -> Result<i64> {
        match self.find(key) {
            None => Ok(default),
            Some(o) => o.value.parse().map_err(|_| self.bad_value(o, "an integer")),
        }
    }

    /// An integer that must be at least `min` (sizes, strides, counts).
    pub fn int_at_least(&self, key: &str, default: i64, min: i64) -> Result<i64> {
        let value = self.int_or(key, default)?;
        // Larger values are never sizes a network can hold, and would overflow shape arithmetic.
        if value < min || value > crate::limits::MAX_CFG_INT {
            let line = self.find(key).map_or(self.section.line, |o| o.line);
            return Err(self.error(
                line,
                format!(
                    "[{}] key `{key}`: {value} is out of range (must be {min} to {})",
                    self.section.name,
                    crate::limits::MAX_CFG_INT
                ),
            ));
        }
        Ok(value)
    }

    pub fn float_or(&self, key: &str, default: f32) -> Result<f32> {
        match self.find(key) {
            None => Ok(default),
            Some(o) => o
                .value
                .parse::<f32>()
                .ok()
                .filter(|v| v.is_finite())
                .ok_or_else(|| self.bad_value(o, "a number")),
        }
    }

    pub fn int_list(&self, key: &str) -> Result<Option<Vec<i64>>> {
        self.list(key, "a comma-separated list of integers", |s| {
            s.parse().ok()
        })
    }

    pub fn float_list(&self, key: &str) -> Result<Option<Vec<f32>>> {
        self.list(key, "a comma-separated list of numbers", |s| {
            s.parse::<f32>().ok().filter(|v| v.is_finite())
        })
    }

    fn list<T>(
        &self,
        key: &str,
        expected: &str,
        parse: impl Fn(&str) -> Option<T>,
    ) -> Result<Option<Vec<T>>> {
        let Some(o) = self.find(key) else {
            return Ok(None);
        };
        o.value
            .split(',')
            .filter(|s| !s.is_empty())
            .map(|s| parse(s).ok_or_else(|| self.bad_value(o, expected)))
            .collect::<Result<Vec<T>>>()
            .map(Some)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<Cfg> {
        Cfg::parse(text, Path::new("test.cfg"))
    }

    #[test]
    fn reads_sections_keys_and_comments() {
        let cfg = parse("# comment\n[net]\nwidth = 416\n; other comment\n\n[convolutional]\nbinary=1\nfilters=16\n").unwrap();
        assert_eq!(cfg.sections.len(), 2);
        let conv = cfg.section(1);
        assert_eq!(conv.name(), "convolutional");
        assert_eq!(conv.line(), 6);
        assert_eq!(conv.int_or("binary", 0).unwrap(), 1);
        assert_eq!(conv.int_or("filters", 1).unwrap(), 16);
        assert_eq!(conv.int_or("size", 1).unwrap(), 1);
        assert_eq!(cfg.section(0).int_or("width", 0).unwrap(), 416);
    }

    #[test]
    fn bad_value_names_file_line_and_key() {
        let cfg = parse("[net]\n[convolutional]\nfilters=sixteen\n").unwrap();
        let e = cfg.section(1).int_or("filters", 1).unwrap_err().to_string();
        assert!(e.starts_with("test.cfg:3:"), "{e}");
        assert!(e.contains("`filters`") && e.contains("sixteen"), "{e}");
    }

    #[test]
    fn unknown_section_is_an_error() {
        let e = parse("[net]\n[convolutionl]\n").unwrap_err().to_string();
        assert_eq!(e, "test.cfg:2: unknown section [convolutionl]");
    }

    #[test]
    fn line_without_equals_is_an_error() {
        let e = parse("[net]\nwidth 416\n").unwrap_err().to_string();
        assert!(e.starts_with("test.cfg:2: expected `key=value`"), "{e}");
    }

    #[test]
    fn key_before_section_and_empty_file_are_errors() {
        assert!(parse("width=1\n")
            .unwrap_err()
            .to_string()
            .contains("before any"));
        assert!(parse("# nothing\n")
            .unwrap_err()
            .to_string()
            .contains("no [section]"));
    }

    #[test]
    fn lists_and_ranges() {
        let cfg = parse("[region]\nanchors = 1.08,1.19, 3.42,4.41\nnum=0\nmask=0,x\n").unwrap();
        let s = cfg.section(0);
        assert_eq!(
            s.float_list("anchors").unwrap().unwrap(),
            vec![1.08, 1.19, 3.42, 4.41]
        );
        assert!(s
            .int_at_least("num", 5, 1)
            .unwrap_err()
            .to_string()
            .contains("out of range"));
        assert!(s
            .int_list("mask")
            .unwrap_err()
            .to_string()
            .contains("`mask`"));
        assert_eq!(s.float_list("missing").unwrap(), None);
    }
}
