//! Dispute categories: stable codes stored in the database; their labels
//! live in `locales/` under `category-<code>`.

use super::DomainError;
use serde::{Deserialize, Serialize};

/// The kind of civil dispute a case is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Category {
    /// 婚姻家庭
    Family,
    /// 邻里
    Neighbor,
    /// 房屋宅基地
    Housing,
    /// 土地承包流转
    Land,
    /// 劳动争议/欠薪
    Labor,
    /// 物业
    PropertyMgmt,
    /// 交通事故
    Traffic,
    /// 医疗
    Medical,
    /// 消费
    Consumer,
    /// 借贷债务
    Debt,
    /// 征地拆迁
    Expropriation,
    /// 环境污染
    Environment,
    /// 其他
    Other,
}

impl Category {
    /// Every category, in the order residents see them.
    pub const ALL: [Category; 13] = [
        Category::Family,
        Category::Neighbor,
        Category::Housing,
        Category::Land,
        Category::Labor,
        Category::PropertyMgmt,
        Category::Traffic,
        Category::Medical,
        Category::Consumer,
        Category::Debt,
        Category::Expropriation,
        Category::Environment,
        Category::Other,
    ];

    /// The stable code stored in the database and used in files and the API.
    pub fn code(self) -> &'static str {
        match self {
            Category::Family => "family",
            Category::Neighbor => "neighbor",
            Category::Housing => "housing",
            Category::Land => "land",
            Category::Labor => "labor",
            Category::PropertyMgmt => "property_mgmt",
            Category::Traffic => "traffic",
            Category::Medical => "medical",
            Category::Consumer => "consumer",
            Category::Debt => "debt",
            Category::Expropriation => "expropriation",
            Category::Environment => "environment",
            Category::Other => "other",
        }
    }

    /// Parses a stable code.
    pub fn parse(code: &str) -> Result<Self, DomainError> {
        let code = code.trim();
        Self::ALL
            .iter()
            .copied()
            .find(|c| c.code() == code)
            .ok_or_else(|| {
                DomainError::new(
                    "category",
                    format!(
                        "unknown category '{code}'; expected one of {}",
                        Self::ALL.map(|c| c.code()).join(", ")
                    ),
                )
            })
    }

    /// Parses a list separated by `;`, `,` or spaces; an empty string is an
    /// empty list.
    pub fn parse_list(s: &str) -> Result<Vec<Self>, DomainError> {
        let mut out = Vec::new();
        for part in s
            .split([';', ',', ' ', '|'])
            .filter(|p| !p.trim().is_empty())
        {
            let c = Self::parse(part)?;
            if !out.contains(&c) {
                out.push(c);
            }
        }
        Ok(out)
    }

    /// The Fluent message id of this category's label.
    pub fn message_id(self) -> String {
        format!("category-{}", self.code().replace('_', "-"))
    }
}

impl std::fmt::Display for Category {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.code())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_code_parses_back_to_its_category() {
        for c in Category::ALL {
            assert_eq!(Category::parse(c.code()).unwrap(), c);
        }
    }

    #[test]
    fn unknown_code_names_the_choices() {
        let e = Category::parse("weather").unwrap_err();
        assert!(e.message.contains("weather") && e.message.contains("labor"));
    }

    #[test]
    fn lists_accept_several_separators_and_drop_repeats() {
        let l = Category::parse_list("labor; medical,labor").unwrap();
        assert_eq!(l, vec![Category::Labor, Category::Medical]);
        assert!(Category::parse_list("").unwrap().is_empty());
    }
}
