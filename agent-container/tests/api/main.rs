mod helpers;

mod containment;
mod flow;
mod follow;
mod ops;
mod reliability;
mod runners;
