//! Golden snapshots (insta) of the detected format and header → channel mapping of every shared fixture.

use crate::common;

use battsentinel_core::io::{read_eis_path, read_path, read_summary_path, ReadOptions};

fn mapping_snapshot(rel: &str) -> serde_json::Value {
    let p = common::shared_data(rel);
    let opts = ReadOptions::default();
    let meta = match read_path(&p, &opts) {
        Ok(log) => log.meta,
        Err(e) if e.code() == "not_a_time_series" => match read_summary_path(&p, &opts) {
            Ok(s) => s.meta,
            Err(_) => read_eis_path(&p, &opts).unwrap().meta,
        },
        Err(e) => panic!("{rel}: {e}"),
    };
    serde_json::json!({
        "format": meta.format,
        "current_sign": meta.current_sign,
        "mapping": meta.mapping.iter().map(|m| format!("{} → {} [{}] ×{} {:+}", m.header, m.channel, m.unit_found, m.scale, m.offset)).collect::<Vec<_>>(),
    })
}

macro_rules! snap {
    ($name:ident, $rel:expr) => {
        #[test]
        fn $name() {
            insta::assert_json_snapshot!(stringify!($name), mapping_snapshot($rel));
        }
    };
}

snap!(arbin_example, "cyclers/arbin_example.csv");
snap!(arbin_severson, "cyclers/arbin_severson_FastCharge_000025_CH8.csv");
snap!(maccor_sec, "cyclers/maccor_PredictionDiagnostics_000151_test.052");
snap!(maccor_testtime, "cyclers/maccor_LGM50_0degC_validation.txt");
snap!(neware_flat, "cyclers/neware_uio.csv");
snap!(neware_hierarchical, "cyclers/neware_hierarchical_export_ife.csv");
snap!(pec, "cyclers/pec_SAFT_VL43EFe_dQdV_C25.csv");
snap!(lanhe_records, "cyclers/lanhe_export.xlsx");
snap!(biologic_csv, "cyclers/biologic_MB_CE1_short10k.csv");
snap!(bitrode_header, "cyclers/bitrode_nissanleaf_HPPC_25C.csv");
snap!(bitrode_headerless, "cyclers/bitrode_nissanleaf_1C_discharge.csv");
snap!(labview_lvm, "cyclers/labview_nissanleaf_1C_discharge_thermocouples.lvm");
snap!(battery_archive, "cyclers/calce_CX2-33_timeseries.csv");
snap!(battery_archive_cycles, "aging/calce_CX2-33_cycle_data.csv");
snap!(bdp_summary, "aging/bdp_p492-13-summary.csv");
snap!(eis_csv, "eis/eis_impedancepy_exampleData.csv");
snap!(eis_mpt, "eis/eis_biologic_PEIS.mpt");
snap!(drive_cycle, "twin/drivecycle_US06.csv");
snap!(trace_voltage, "twin/enertech_1C_discharge_voltage.txt");
snap!(trace_temperature_rise, "twin/enertech_1C_discharge_temperature_rise.txt");
snap!(pybamm_trace, "twin/pybamm_thevenin_1C.csv");
