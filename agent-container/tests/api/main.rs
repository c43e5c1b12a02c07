mod helpers;

mod flow;
