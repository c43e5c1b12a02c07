//! Being built for the provider services.
