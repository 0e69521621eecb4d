// A synthetic Arbin CSV export of `rows` rows (1 s sampling): CC charge / rest / CC discharge / rest cycles of
// a 1.1 Ah cell losing 0.3 % capacity per cycle, with a smooth OCV, an ohmic drop and a warming cell.
// Deterministic; used by the browser test and the bench for "a 100,000-row cycler file".
export function arbinCsv(rows) {
  const header = 'Data_Point,Test_Time,DateTime,Step_Time,Step_Index,Cycle_Index,Current,Voltage,Charge_Capacity,Discharge_Capacity,Charge_Energy,Discharge_Energy,dV/dt,Internal_Resistance,Temperature\n';
  const parts = [header];
  const i1c = 1.1;
  const r = 0.035;
  const ocv = (soc) => 3.0 + 1.05 * soc + 0.12 * Math.tanh(8 * (soc - 0.15)) - 0.05 * Math.exp(-30 * (1 - soc));
  let t = 0;
  let cycle = 1;
  let soc = 0.02;
  let temp = 25;
  let n = 0;
  let qc = 0;
  let qd = 0;
  let ec = 0;
  let ed = 0;
  while (n < rows) {
    const cap = 1.1 * (1 - 0.003 * (cycle - 1));
    const steps = [
      [1, 0, 60],
      [2, i1c, Math.floor((3600 * cap * 0.96) / i1c)],
      [3, 0, 300],
      [4, -i1c, Math.floor((3600 * cap * 0.96) / i1c)],
      [5, 0, 300],
    ];
    qc = 0; qd = 0; ec = 0; ed = 0;
    for (const [step, current, duration] of steps) {
      for (let s = 0; s < duration && n < rows; s++) {
        soc += current / (3600 * cap);
        const v = ocv(soc) + current * r;
        if (current > 0) { qc += current / 3600; ec += (current * v) / 3600; }
        if (current < 0) { qd -= current / 3600; ed -= (current * v) / 3600; }
        temp += 0.002 * current * current - 0.001 * (temp - 25);
        parts.push(`${n + 1},${t},${1700000000 + t},${s},${step},${cycle},${current},${v.toFixed(5)},${qc.toFixed(6)},${qd.toFixed(6)},${ec.toFixed(6)},${ed.toFixed(6)},0,${r},${temp.toFixed(3)}\n`);
        t += 1;
        n += 1;
      }
    }
    cycle += 1;
  }
  return parts.join('');
}
