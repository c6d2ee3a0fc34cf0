//! PASCAL VOC folders for `zynqdet eval`: `Annotations/<id>.xml`, `JPEGImages/`, and optionally
//! `ImageSets/Main/<set>.txt` listing the ids to use; and the map from a model's class names to
//! the dataset's.

use anyhow::{bail, Context, Result};
use darknet_port::qnn_import::VOC_NAMES;
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

/// A ground-truth object, its box in VOC's inclusive pixel coordinates.
#[derive(Debug, Clone, PartialEq)]
pub struct Object {
    pub name: String,
    pub bbox: [f64; 4],
    pub difficult: bool,
}

#[derive(Debug, Clone)]
pub struct Annotated {
    pub image: PathBuf,
    pub objects: Vec<Object>,
}

/// The images whose annotations could be read, and one line for each that could not.
#[derive(Debug)]
pub struct Dataset {
    pub images: Vec<Annotated>,
    pub problems: Vec<String>,
    /// VOC's 20 classes, then any other name the annotations use.
    pub classes: Vec<String>,
}

/// Reads `dir`: the ids of `ImageSets/Main/<set>.txt`, or every `Annotations/*.xml`; the
/// first `limit` of them. A missing or bad annotation or image is a problem, not an error.
pub fn read(dir: &Path, set: Option<&str>, limit: Option<usize>) -> Result<Dataset> {
    let annotations = dir.join("Annotations");
    if !annotations.is_dir() {
        bail!(
            "{}: not a VOC folder (no Annotations/ in it)",
            dir.display()
        );
    }
    let mut ids: Vec<String> = match set {
        Some(set) => {
            let list = dir.join("ImageSets/Main").join(format!("{set}.txt"));
            std::fs::read_to_string(&list)
                .with_context(|| format!("{}: cannot read the image set", list.display()))?
                .lines()
                // segmentation-style lists carry a second column (1/-1): the id is the first
                .filter_map(|l| l.split_whitespace().next().map(String::from))
                .collect()
        }
        None => {
            let mut ids: Vec<String> = std::fs::read_dir(&annotations)
                .with_context(|| format!("{}: cannot list", annotations.display()))?
                .filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|p| p.extension().is_some_and(|e| e == "xml"))
                .filter_map(|p| p.file_stem().and_then(|s| s.to_str()).map(String::from))
                .collect();
            ids.sort();
            ids
        }
    };
    if let Some(limit) = limit {
        ids.truncate(limit);
    }
    let mut images = Vec::new();
    let mut problems = Vec::new();
    for id in ids {
        let xml = annotations.join(format!("{id}.xml"));
        match read_annotation(dir, &id, &xml) {
            Ok(a) => images.push(a),
            Err(e) => problems.push(format!("{}: {e:#}", xml.display())),
        }
    }
    let mut classes: Vec<String> = VOC_NAMES.iter().map(|s| s.to_string()).collect();
    let extra: BTreeSet<&str> = images
        .iter()
        .flat_map(|a| a.objects.iter().map(|o| o.name.as_str()))
        .filter(|n| !VOC_NAMES.contains(n))
        .collect();
    classes.extend(extra.into_iter().map(String::from));
    Ok(Dataset {
        images,
        problems,
        classes,
    })
}

fn read_annotation(dir: &Path, id: &str, xml: &Path) -> Result<Annotated> {
    let text = std::fs::read_to_string(xml).map_err(|e| anyhow::anyhow!("cannot read: {e}"))?;
    let (filename, objects) = parse_annotation(&text)?;
    let images = dir.join("JPEGImages");
    let candidates = filename
        .iter()
        .map(|f| images.join(f))
        .chain(["jpg", "jpeg", "png"].map(|e| images.join(format!("{id}.{e}"))));
    let mut tried = Vec::new();
    for path in candidates {
        if path.is_file() {
            return Ok(Annotated {
                image: path,
                objects,
            });
        }
        tried.push(path.display().to_string());
    }
    bail!("no image for it (looked for {})", tried.join(", "))
}

/// The `<filename>` and the objects of one VOC annotation.
pub fn parse_annotation(text: &str) -> Result<(Option<String>, Vec<Object>)> {
    let doc = roxmltree::Document::parse(text).map_err(|e| anyhow::anyhow!("not XML: {e}"))?;
    let root = doc.root_element();
    if root.tag_name().name() != "annotation" {
        bail!("not a VOC annotation (root <{}>)", root.tag_name().name());
    }
    let child_text = |node: roxmltree::Node, name: &str| {
        node.children()
            .find(|c| c.has_tag_name(name))
            .map(|c| c.text().unwrap_or("").trim().to_string())
    };
    let filename = child_text(root, "filename").filter(|f| !f.is_empty());
    let mut objects = Vec::new();
    for (i, object) in root
        .children()
        .filter(|c| c.has_tag_name("object"))
        .enumerate()
    {
        let name = child_text(object, "name")
            .filter(|n| !n.is_empty())
            .with_context(|| format!("object {}: no <name>", i + 1))?;
        let difficult = match child_text(object, "difficult").as_deref() {
            None | Some("") | Some("0") => false,
            Some("1") => true,
            Some(other) => bail!("object {} ({name}): <difficult> is `{other}`", i + 1),
        };
        let bndbox = object
            .children()
            .find(|c| c.has_tag_name("bndbox"))
            .with_context(|| format!("object {} ({name}): no <bndbox>", i + 1))?;
        let mut bbox = [0f64; 4];
        for (v, key) in bbox.iter_mut().zip(["xmin", "ymin", "xmax", "ymax"]) {
            let text = child_text(bndbox, key)
                .with_context(|| format!("object {} ({name}): no <{key}>", i + 1))?;
            *v = text
                .parse::<f64>()
                .ok()
                .filter(|v| v.is_finite())
                .with_context(|| format!("object {} ({name}): <{key}> is `{text}`", i + 1))?;
        }
        if bbox[2] < bbox[0] || bbox[3] < bbox[1] {
            bail!(
                "object {} ({name}): box {bbox:?} has its max below its min",
                i + 1
            );
        }
        objects.push(Object {
            name,
            bbox,
            difficult,
        });
    }
    Ok((filename, objects))
}

/// Lower case without spaces or slashes, so that `dining table`, `diningtable` and `tv/monitor`
/// meet their VOC spellings.
fn normal(name: &str) -> String {
    name.chars()
        .filter(|c| !c.is_whitespace() && *c != '/' && *c != '_' && *c != '-')
        .flat_map(char::to_lowercase)
        .collect()
}

/// COCO's names of VOC's classes that differ by more than spacing.
const COCO_TO_VOC: [(&str, &str); 4] = [
    ("airplane", "aeroplane"),
    ("motorcycle", "motorbike"),
    ("couch", "sofa"),
    ("tv", "tvmonitor"),
];

/// For each model class, the dataset class it counts as (None: its detections are ignored).
/// Names match after [`normal`] and COCO's aliases; `overrides` (from `--class-map`) come first.
pub fn class_map(
    model: &[String],
    dataset: &[String],
    overrides: &[(String, Option<String>)],
) -> Vec<Option<usize>> {
    let find = |name: &str| dataset.iter().position(|d| normal(d) == normal(name));
    model
        .iter()
        .map(|m| {
            if let Some((_, target)) = overrides.iter().find(|(from, _)| normal(from) == normal(m))
            {
                return target.as_deref().and_then(find);
            }
            let n = normal(m);
            let alias = COCO_TO_VOC
                .iter()
                .find(|(coco, _)| *coco == n)
                .map_or(n.as_str(), |(_, voc)| voc);
            find(alias)
        })
        .collect()
}

/// A `--class-map` file: `MODEL CLASS = DATASET CLASS` a line (`= -` or nothing after `=` drops
/// the class; `#` starts a comment).
pub fn read_class_map(path: &Path) -> Result<Vec<(String, Option<String>)>> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("{}: cannot read", path.display()))?;
    let mut out = Vec::new();
    for (n, line) in text.lines().enumerate() {
        let line = line.split('#').next().unwrap_or("").trim();
        if line.is_empty() {
            continue;
        }
        let (from, to) = line.split_once('=').with_context(|| {
            format!(
                "{}:{}: `{line}` is not `MODEL CLASS = DATASET CLASS`",
                path.display(),
                n + 1
            )
        })?;
        let to = to.trim();
        out.push((
            from.trim().to_string(),
            (!to.is_empty() && to != "-").then(|| to.to_string()),
        ));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn annotations_parse_and_bad_ones_say_why() {
        let (file, objects) = parse_annotation(
            "<annotation><filename>a.jpg</filename><object><name>dog</name><difficult/>\
             <bndbox><xmin>1</xmin><ymin>2.5</ymin><xmax>30</xmax><ymax>40</ymax></bndbox>\
             </object><object><name>cat</name><difficult>1</difficult><bndbox><xmin>1</xmin>\
             <ymin>2</ymin><xmax>3</xmax><ymax>4</ymax></bndbox></object></annotation>",
        )
        .unwrap();
        assert_eq!(file.as_deref(), Some("a.jpg"));
        assert_eq!(objects.len(), 2);
        assert_eq!(objects[0].bbox, [1.0, 2.5, 30.0, 40.0]);
        assert!(!objects[0].difficult && objects[1].difficult);
        let err = |t: &str| format!("{:#}", parse_annotation(t).unwrap_err());
        assert!(
            err("<annotation><object><name>x</name></object></annotation>")
                .contains("object 1 (x): no <bndbox>")
        );
        assert!(err("<annotation><object><name>x</name><bndbox><xmin>a</xmin></bndbox></object></annotation>")
            .contains("<xmin> is `a`"));
        assert!(err("<annotation>").contains("not XML"));
        assert!(err("<html/>").contains("not a VOC annotation"));
    }

    #[test]
    fn coco_names_map_to_voc() {
        let voc: Vec<String> = VOC_NAMES.iter().map(|s| s.to_string()).collect();
        let coco: Vec<String> = [
            "person",
            "airplane",
            "dining table",
            "giraffe",
            "tv",
            "sofa",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        let pos = |n: &str| VOC_NAMES.iter().position(|v| *v == n);
        let map = class_map(&coco, &voc, &[]);
        assert_eq!(
            map,
            vec![
                pos("person"),
                pos("aeroplane"),
                pos("diningtable"),
                None,
                pos("tvmonitor"),
                pos("sofa")
            ]
        );
        // an override wins, and `-` drops
        let map = class_map(
            &coco,
            &voc,
            &[
                ("giraffe".into(), Some("horse".into())),
                ("person".into(), None),
            ],
        );
        assert_eq!((map[0], map[3]), (None, pos("horse")));
    }
}
