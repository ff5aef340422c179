//! Fixed-point spiking network datapath (owned by the SNN/RTL work; see rtl/README.md).
