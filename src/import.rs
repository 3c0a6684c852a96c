//! Loading regions, committees and routing rules from CSV files.
//!
//! County staff keep these tables in spreadsheets, so the format is CSV with
//! a header row (UTF-8, comma-separated). An import validates every row of
//! every file first and then writes everything in one transaction: a bad file
//! names the file, line and field and changes nothing. Importing the same
//! files twice leaves the database as one import does (rows are keyed by
//! region code, committee code and rule name).

use crate::domain::{
    committee::validate_committee_fields, rule::check_target_resolvable,
    rule::validate_rule_fields, Category, Committee, CommitteeKind, DomainError, GeoPoint, Region,
    RegionCode, RuleConditions, RuleTarget,
};
use crate::storage::{self, committees::CommitteeFields, rules::RuleFields, Storage, StorageError};
use std::collections::HashMap;
use std::path::Path;

/// What went wrong with an import.
#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    /// A value in a file is wrong.
    #[error("{file}, line {line}, field {field}: {message}")]
    Invalid {
        /// File name.
        file: String,
        /// 1-based line (the header is line 1).
        line: u64,
        /// Column name.
        field: String,
        /// What was wrong.
        message: String,
    },
    /// A file could not be read.
    #[error("{file}: {message}")]
    Unreadable {
        /// File name.
        file: String,
        /// Why.
        message: String,
    },
    /// The database refused the data.
    #[error(transparent)]
    Storage(#[from] StorageError),
}

/// How many rows each file held.
#[derive(Debug, Default, Clone, PartialEq, Eq, serde::Serialize)]
pub struct ImportSummary {
    /// Regions created or updated.
    pub regions: usize,
    /// Committees created or updated.
    pub committees: usize,
    /// Rules created or updated.
    pub rules: usize,
}

/// The three tables as text, any of which may be absent.
#[derive(Debug, Default, Clone)]
pub struct ImportFiles {
    /// `regions.csv`
    pub regions: Option<String>,
    /// `committees.csv`
    pub committees: Option<String>,
    /// `rules.csv`
    pub rules: Option<String>,
}

/// The demo dataset shipped with jiefen (Zhangye city, Minle county).
pub fn demo_files() -> ImportFiles {
    ImportFiles {
        regions: Some(include_str!("../data/demo/regions.csv").to_owned()),
        committees: Some(include_str!("../data/demo/committees.csv").to_owned()),
        rules: Some(include_str!("../data/demo/rules.csv").to_owned()),
    }
}

impl ImportFiles {
    /// Reads `regions.csv`, `committees.csv` and `rules.csv` from a folder,
    /// or one file when `path` names a file (its name says which table).
    pub fn from_path(path: &Path) -> Result<Self, ImportError> {
        let read = |p: &Path| {
            std::fs::read_to_string(p).map_err(|e| ImportError::Unreadable {
                file: p.display().to_string(),
                message: e.to_string(),
            })
        };
        let mut files = ImportFiles::default();
        if path.is_dir() {
            for (name, slot) in [
                ("regions.csv", &mut files.regions),
                ("committees.csv", &mut files.committees),
                ("rules.csv", &mut files.rules),
            ] {
                let p = path.join(name);
                if p.exists() {
                    *slot = Some(read(&p)?);
                }
            }
            if files.regions.is_none() && files.committees.is_none() && files.rules.is_none() {
                return Err(ImportError::Unreadable {
                    file: path.display().to_string(),
                    message: "no regions.csv, committees.csv or rules.csv in this folder".into(),
                });
            }
        } else {
            let name = path
                .file_name()
                .and_then(|n| n.to_str())
                .unwrap_or_default();
            let text = read(path)?;
            if name.contains("region") {
                files.regions = Some(text);
            } else if name.contains("committee") {
                files.committees = Some(text);
            } else if name.contains("rule") {
                files.rules = Some(text);
            } else {
                return Err(ImportError::Unreadable {
                    file: path.display().to_string(),
                    message: "the file name must contain regions, committees or rules".into(),
                });
            }
        }
        Ok(files)
    }
}

/// One CSV row with its line number and columns by name.
struct Row<'a> {
    file: &'a str,
    line: u64,
    fields: HashMap<&'a str, String>,
}

impl Row<'_> {
    fn err(&self, field: &str, message: impl Into<String>) -> ImportError {
        ImportError::Invalid {
            file: self.file.to_owned(),
            line: self.line,
            field: field.to_owned(),
            message: message.into(),
        }
    }

    fn domain_err(&self, e: DomainError, field: &str) -> ImportError {
        self.err(field, e.message)
    }

    fn opt(&self, name: &str) -> Option<&str> {
        self.fields
            .get(name)
            .map(|s| s.trim())
            .filter(|s| !s.is_empty())
    }

    fn req(&self, name: &str) -> Result<&str, ImportError> {
        self.opt(name).ok_or_else(|| self.err(name, "is required"))
    }

    fn f64(&self, name: &str) -> Result<Option<f64>, ImportError> {
        self.opt(name)
            .map(|s| {
                s.parse::<f64>()
                    .map_err(|_| self.err(name, format!("'{s}' is not a number")))
            })
            .transpose()
    }

    fn i64(&self, name: &str) -> Result<Option<i64>, ImportError> {
        self.opt(name)
            .map(|s| {
                s.parse::<i64>()
                    .map_err(|_| self.err(name, format!("'{s}' is not a whole number")))
            })
            .transpose()
    }

    fn bool(&self, name: &str) -> Result<Option<bool>, ImportError> {
        self.opt(name)
            .map(|s| match s.to_ascii_lowercase().as_str() {
                "true" | "yes" | "1" | "是" => Ok(true),
                "false" | "no" | "0" | "否" => Ok(false),
                _ => Err(self.err(name, format!("'{s}' is not true or false"))),
            })
            .transpose()
    }

    fn point(&self) -> Result<Option<GeoPoint>, ImportError> {
        match (self.f64("lat")?, self.f64("lon")?) {
            (Some(lat), Some(lon)) => GeoPoint::parse(lat, lon)
                .map(Some)
                .map_err(|e| self.domain_err(e.clone(), &e.field)),
            (None, None) => Ok(None),
            (Some(_), None) => Err(self.err("lon", "is required when lat is given")),
            (None, Some(_)) => Err(self.err("lat", "is required when lon is given")),
        }
    }
}

fn parse_csv<'a>(
    file: &'a str,
    text: &str,
    required: &[&str],
    known: &[&'a str],
) -> Result<Vec<Row<'a>>, ImportError> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut rdr = csv::ReaderBuilder::new()
        .flexible(false)
        .trim(csv::Trim::All)
        .from_reader(text.as_bytes());
    let unreadable = |e: csv::Error| {
        let line = e.position().map(|p| p.line()).unwrap_or(1);
        ImportError::Invalid {
            file: file.to_owned(),
            line,
            field: "-".into(),
            message: e.to_string(),
        }
    };
    let headers = rdr.headers().map_err(unreadable)?.clone();
    let mut columns: Vec<&'a str> = Vec::with_capacity(headers.len());
    for h in headers.iter() {
        match known.iter().find(|k| **k == h) {
            Some(k) => columns.push(k),
            None => {
                return Err(ImportError::Invalid {
                    file: file.to_owned(),
                    line: 1,
                    field: h.to_owned(),
                    message: format!("unknown column; expected {}", known.join(", ")),
                })
            }
        }
    }
    for r in required {
        if !columns.contains(r) {
            return Err(ImportError::Invalid {
                file: file.to_owned(),
                line: 1,
                field: (*r).to_owned(),
                message: "column is missing".into(),
            });
        }
    }
    let mut rows = Vec::new();
    for rec in rdr.records() {
        let rec = rec.map_err(unreadable)?;
        let line = rec.position().map(|p| p.line()).unwrap_or(0);
        if rec.iter().all(|f| f.is_empty()) {
            continue;
        }
        let fields = columns
            .iter()
            .zip(rec.iter())
            .map(|(c, v)| (*c, v.to_owned()))
            .collect();
        rows.push(Row { file, line, fields });
    }
    Ok(rows)
}

const REGION_COLUMNS: [&str; 7] = [
    "code",
    "name",
    "parent_code",
    "lat",
    "lon",
    "population",
    "illustrative",
];

fn parse_regions(text: &str) -> Result<Vec<(u64, Region)>, ImportError> {
    let rows = parse_csv("regions.csv", text, &["code", "name"], &REGION_COLUMNS)?;
    let mut out = Vec::with_capacity(rows.len());
    for row in &rows {
        let code = RegionCode::parse(row.req("code")?).map_err(|e| row.domain_err(e, "code"))?;
        let name = row.req("name")?.to_owned();
        if name.chars().count() > 100 {
            return Err(row.err("name", "must be at most 100 characters"));
        }
        let parent_code = match row.opt("parent_code") {
            Some(p) => {
                let p = RegionCode::parse(p).map_err(|e| row.domain_err(e, "parent_code"))?;
                if code.parent().as_ref() != Some(&p) {
                    return Err(row.err(
                        "parent_code",
                        format!("{p} is not the parent of {code} by its code"),
                    ));
                }
                Some(p)
            }
            None => None,
        };
        let population = row.i64("population")?;
        if population.is_some_and(|p| p < 0) {
            return Err(row.err("population", "must not be negative"));
        }
        out.push((
            row.line,
            Region {
                code,
                name,
                parent_code,
                centroid: row.point()?,
                population,
                illustrative: row.bool("illustrative")?.unwrap_or(false),
            },
        ));
    }
    Ok(out)
}

const COMMITTEE_COLUMNS: [&str; 12] = [
    "code",
    "name",
    "kind",
    "specialties",
    "region_code",
    "lat",
    "lon",
    "address",
    "phone",
    "capacity",
    "active",
    "illustrative",
];

fn parse_committees(text: &str) -> Result<Vec<(u64, CommitteeFields)>, ImportError> {
    let rows = parse_csv(
        "committees.csv",
        text,
        &["code", "name", "kind", "region_code", "lat", "lon"],
        &COMMITTEE_COLUMNS,
    )?;
    let mut out = Vec::with_capacity(rows.len());
    for row in &rows {
        let kind = CommitteeKind::parse(row.req("kind")?).map_err(|e| row.domain_err(e, "kind"))?;
        let specialties = Category::parse_list(row.opt("specialties").unwrap_or(""))
            .map_err(|e| row.domain_err(e, "specialties"))?;
        let f = CommitteeFields {
            code: row.req("code")?.to_owned(),
            name: row.req("name")?.to_owned(),
            kind,
            specialties,
            region_code: RegionCode::parse(row.req("region_code")?)
                .map_err(|e| row.domain_err(e, "region_code"))?,
            location: row.point()?.ok_or_else(|| row.err("lat", "is required"))?,
            address: row.opt("address").unwrap_or("").to_owned(),
            phone: row.opt("phone").unwrap_or("").to_owned(),
            capacity: row.i64("capacity")?.unwrap_or(100),
            active: row.bool("active")?.unwrap_or(true),
            illustrative: row.bool("illustrative")?.unwrap_or(false),
        };
        validate_committee_fields(&f.code, &f.name, f.kind, &f.specialties, f.capacity)
            .map_err(|e| row.domain_err(e.clone(), &e.field))?;
        out.push((row.line, f));
    }
    Ok(out)
}

const RULE_COLUMNS: [&str; 14] = [
    "priority",
    "name",
    "enabled",
    "categories",
    "region_prefix",
    "min_parties",
    "at_risk",
    "target_committee",
    "target_kind",
    "target_specialty",
    "max_distance_km",
    "within_county",
    "accept_hours",
    "resolve_days",
];

/// A rule as written in a file: its target committee named by code.
struct RuleRow {
    line: u64,
    fields: RuleFields,
    target_committee_code: Option<String>,
}

fn parse_rules(text: &str) -> Result<Vec<RuleRow>, ImportError> {
    let rows = parse_csv("rules.csv", text, &["priority", "name"], &RULE_COLUMNS)?;
    let mut out = Vec::with_capacity(rows.len());
    for row in &rows {
        let priority = row
            .i64("priority")?
            .ok_or_else(|| row.err("priority", "is required"))?;
        let name = row.req("name")?.to_owned();
        let conditions = RuleConditions {
            categories: Category::parse_list(row.opt("categories").unwrap_or(""))
                .map_err(|e| row.domain_err(e, "categories"))?,
            region_prefix: row
                .opt("region_prefix")
                .map(RegionCode::parse_prefix)
                .transpose()
                .map_err(|e| row.domain_err(e, "region_prefix"))?,
            min_parties: row.i64("min_parties")?,
            at_risk: row.bool("at_risk")?,
        };
        conditions
            .validate()
            .map_err(|e| row.domain_err(e.clone(), &e.field))?;
        let committee_code = row.opt("target_committee").map(str::to_owned);
        let target = match (&committee_code, row.opt("target_kind")) {
            (Some(_), Some(_)) => {
                return Err(row.err(
                    "target_kind",
                    "give either target_committee or target_kind, not both",
                ))
            }
            (None, None) => {
                return Err(row.err("target_kind", "give target_committee or target_kind"))
            }
            // The id is filled in once committees are known.
            (Some(_), None) => RuleTarget::Committee { committee_id: 0 },
            (None, Some(kind)) => RuleTarget::Nearest {
                kind: CommitteeKind::parse(kind).map_err(|e| row.domain_err(e, "target_kind"))?,
                specialty: row
                    .opt("target_specialty")
                    .map(Category::parse)
                    .transpose()
                    .map_err(|e| row.domain_err(e, "target_specialty"))?,
                max_distance_km: row.f64("max_distance_km")?,
                within_county: row.bool("within_county")?.unwrap_or(false),
            },
        };
        target.validate().map_err(|e| {
            let field = e.field.replace("target.", "target_");
            row.domain_err(e, &field)
        })?;
        let accept_hours = row.i64("accept_hours")?;
        let resolve_days = row.i64("resolve_days")?;
        validate_rule_fields(&name, priority, accept_hours, resolve_days)
            .map_err(|e| row.domain_err(e.clone(), &e.field))?;
        out.push(RuleRow {
            line: row.line,
            fields: RuleFields {
                priority,
                name,
                enabled: row.bool("enabled")?.unwrap_or(true),
                conditions,
                target,
                accept_hours,
                resolve_days,
            },
            target_committee_code: committee_code,
        });
    }
    Ok(out)
}

fn invalid(file: &str, line: u64, field: &str, message: impl Into<String>) -> ImportError {
    ImportError::Invalid {
        file: file.to_owned(),
        line,
        field: field.to_owned(),
        message: message.into(),
    }
}

/// Validates all files, then writes them in one transaction. Nothing is
/// written when anything is wrong.
pub async fn import(
    storage: &Storage,
    files: &ImportFiles,
    now: i64,
) -> Result<ImportSummary, ImportError> {
    // Parse everything before touching the database.
    let regions = files
        .regions
        .as_deref()
        .map(parse_regions)
        .transpose()?
        .unwrap_or_default();
    let committees = files
        .committees
        .as_deref()
        .map(parse_committees)
        .transpose()?
        .unwrap_or_default();
    let mut rules = files
        .rules
        .as_deref()
        .map(parse_rules)
        .transpose()?
        .unwrap_or_default();

    let mut dup = HashMap::new();
    for (line, r) in &regions {
        if let Some(first) = dup.insert(r.code.as_str().to_owned(), *line) {
            return Err(invalid(
                "regions.csv",
                *line,
                "code",
                format!("{} is already on line {first}", r.code),
            ));
        }
    }
    dup.clear();
    for (line, c) in &committees {
        if let Some(first) = dup.insert(c.code.clone(), *line) {
            return Err(invalid(
                "committees.csv",
                *line,
                "code",
                format!("{} is already on line {first}", c.code),
            ));
        }
    }
    dup.clear();
    for r in &rules {
        if let Some(first) = dup.insert(r.fields.name.clone(), r.line) {
            return Err(invalid(
                "rules.csv",
                r.line,
                "name",
                format!("'{}' is already on line {first}", r.fields.name),
            ));
        }
    }

    let mut tx = storage.begin().await?;

    // Regions: a parent must be in the file (earlier or later) or in the database.
    let mut known_regions: HashMap<String, ()> = storage::regions::list(&mut tx)
        .await?
        .into_iter()
        .map(|r| (r.code.as_str().to_owned(), ()))
        .collect();
    for (_, r) in &regions {
        known_regions.insert(r.code.as_str().to_owned(), ());
    }
    for (line, r) in &regions {
        if let Some(p) = &r.parent_code {
            if !known_regions.contains_key(p.as_str()) {
                return Err(invalid(
                    "regions.csv",
                    *line,
                    "parent_code",
                    format!("region {p} is not known"),
                ));
            }
        }
    }
    for (line, c) in &committees {
        if !known_regions.contains_key(c.region_code.as_str()) {
            return Err(invalid(
                "committees.csv",
                *line,
                "region_code",
                format!("region {} is not known", c.region_code),
            ));
        }
    }

    // Committees as they will be after the import, for checking rule targets.
    let mut after: Vec<Committee> = storage::committees::list_all(&mut tx).await?;
    let mut next_id = after.iter().map(|c| c.id).max().unwrap_or(0) + 1;
    for (_, f) in &committees {
        let c = Committee {
            id: after
                .iter()
                .find(|c| c.code == f.code)
                .map(|c| c.id)
                .unwrap_or_else(|| {
                    next_id += 1;
                    -next_id
                }),
            code: f.code.clone(),
            name: f.name.clone(),
            kind: f.kind,
            specialties: f.specialties.clone(),
            region_code: f.region_code.clone(),
            location: f.location,
            address: f.address.clone(),
            phone: f.phone.clone(),
            capacity: f.capacity,
            active: f.active,
            illustrative: f.illustrative,
        };
        match after.iter_mut().find(|x| x.code == c.code) {
            Some(slot) => *slot = c,
            None => after.push(c),
        }
    }
    for r in &mut rules {
        if let Some(code) = &r.target_committee_code {
            let Some(c) = after.iter().find(|c| &c.code == code) else {
                return Err(invalid(
                    "rules.csv",
                    r.line,
                    "target_committee",
                    format!("committee {code} is not known"),
                ));
            };
            r.fields.target = RuleTarget::Committee { committee_id: c.id };
        }
        check_target_resolvable(&r.fields.target, &after).map_err(|e| {
            let field = match e.field.as_str() {
                "target.committee" => "target_committee",
                "target.specialty" => "target_specialty",
                _ => "target_kind",
            };
            invalid("rules.csv", r.line, field, e.message)
        })?;
    }

    // Everything is valid: write. Parents first so foreign keys hold.
    let mut ordered: Vec<&Region> = regions.iter().map(|(_, r)| r).collect();
    ordered.sort_by_key(|r| {
        (
            r.code.as_str().len(),
            r.code.level(),
            r.code.as_str().to_owned(),
        )
    });
    for r in ordered {
        storage::regions::upsert(&mut tx, r).await?;
    }
    let mut ids_by_code = HashMap::new();
    for (_, f) in &committees {
        let id = storage::committees::upsert_by_code(&mut tx, f, now).await?;
        ids_by_code.insert(f.code.clone(), id);
    }
    for r in &mut rules {
        if let Some(code) = &r.target_committee_code {
            let id = match ids_by_code.get(code) {
                Some(id) => *id,
                None => storage::committees::get_by_code(&mut tx, code)
                    .await?
                    .map(|c| c.id)
                    .ok_or_else(|| StorageError::NotFound(format!("committee {code}")))?,
            };
            r.fields.target = RuleTarget::Committee { committee_id: id };
        }
        storage::rules::upsert_by_name(&mut tx, &r.fields, now).await?;
    }
    tx.commit().await.map_err(StorageError::from)?;
    Ok(ImportSummary {
        regions: regions.len(),
        committees: committees.len(),
        rules: rules.len(),
    })
}
