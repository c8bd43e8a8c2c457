//! Issue 16: see the helper's brief.
