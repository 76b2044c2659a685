//! The integration tests: one binary, one file per behaviour.

mod bad_input;
mod cli;
mod common;
mod engine_props;
mod failover;
mod golden;
mod limits;
mod modules;
mod node_controller;
mod operations;
mod outputs;
mod physics;
mod podgc;
mod report;
mod shards;
mod spec;
mod storage;
mod streams;
mod traces;
mod warnings;
