mod helpers;

mod containment;
mod flow;
mod ops;
mod reliability;
mod runners;
