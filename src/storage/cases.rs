//! Cases, their timeline and attachments.
