//===- ort-run.js - run an ONNX model with ONNX Runtime on .npy files -----===//
//
// The reference side of qopt's ONNX Runtime comparisons: loads a model with
// onnxruntime-node (CPU execution provider, default graph optimizations),
// feeds it .npy inputs in the order of the graph inputs and writes
// OUTDIR/output_K.npy in the order of the graph outputs, the same files
// `qopt-run --model ... --output-dir` writes. onnxruntime-node is found
// through NODE_PATH (scripts/setup.sh installs it into build/npm).
//
//   node ort-run.js [--repeat N] MODEL.onnx OUTDIR IN0.npy [IN1.npy ...]
//
//===----------------------------------------------------------------------===//
'use strict';

const fs = require('fs');
const path = require('path');
const ort = require('onnxruntime-node');

// numpy descr (without byte order) <-> ONNX Runtime tensor type.
const TYPES = {
  f4: ['float32', Float32Array], f8: ['float64', Float64Array],
  i1: ['int8', Int8Array], u1: ['uint8', Uint8Array],
  i2: ['int16', Int16Array], u2: ['uint16', Uint16Array],
  i4: ['int32', Int32Array], u4: ['uint32', Uint32Array],
  i8: ['int64', BigInt64Array], u8: ['uint64', BigUint64Array],
  b1: ['bool', Uint8Array],
};

function readNpy(file) {
  const buf = fs.readFileSync(file);
  if (buf.toString('latin1', 1, 6) !== 'NUMPY')
    throw new Error(file + ': not an .npy file');
  const major = buf[6];
  const hlen = major === 1 ? buf.readUInt16LE(8) : buf.readUInt32LE(8);
  const at = major === 1 ? 10 : 12;
  const header = buf.toString('latin1', at, at + hlen);
  const descr = /'descr':\s*'([<|=])(\w\d)'/.exec(header);
  if (!descr || !TYPES[descr[2]])
    throw new Error(file + ': unsupported dtype in ' + header);
  if (/'fortran_order':\s*True/.test(header))
    throw new Error(file + ': Fortran order is not supported');
  const shape = /'shape':\s*\(([^)]*)\)/.exec(header)[1]
                    .split(',').map((s) => s.trim()).filter((s) => s)
                    .map(Number);
  const [type, Arr] = TYPES[descr[2]];
  const bytes = buf.subarray(at + hlen);
  const copy = new ArrayBuffer(bytes.length);
  new Uint8Array(copy).set(bytes);
  let data = new Arr(copy);
  if (type === 'bool')
    data = Array.from(data, (v) => v !== 0);
  return new ort.Tensor(type, data, shape);
}

function writeNpy(file, tensor) {
  const code = Object.keys(TYPES).find((k) => TYPES[k][0] === tensor.type);
  if (!code)
    throw new Error('output type ' + tensor.type + ' has no .npy writer');
  const order = code[1] === '1' ? '|' : '<';
  const dims = tensor.dims.map(String);
  const shape = '(' + dims.join(', ') + (dims.length === 1 ? ',' : '') + ')';
  let header = "{'descr': '" + order + code + "', 'fortran_order': False, " +
               "'shape': " + shape + ', }';
  header += ' '.repeat(63 - ((10 + header.length) % 64)) + '\n';
  const pre = Buffer.alloc(10);
  pre.write('\x93NUMPY', 0, 'latin1');
  pre[6] = 1;
  pre[7] = 0;
  pre.writeUInt16LE(header.length, 8);
  let data = tensor.data;
  if (tensor.type === 'bool')
    data = Uint8Array.from(data, (v) => (v ? 1 : 0));
  fs.writeFileSync(file, Buffer.concat([
    pre, Buffer.from(header, 'latin1'),
    Buffer.from(data.buffer, data.byteOffset, data.byteLength)]));
}

async function main() {
  const args = process.argv.slice(2);
  let repeat = 1;
  if (args[0] === '--repeat') {
    repeat = Math.max(1, Number(args[1]));
    args.splice(0, 2);
  }
  if (args.length < 2) {
    console.error('usage: node ort-run.js [--repeat N] MODEL OUTDIR IN.npy...');
    process.exit(2);
  }
  const [model, outDir, ...inputs] = args;
  const t0 = process.hrtime.bigint();
  const session = await ort.InferenceSession.create(model, {
    executionProviders: ['cpu'],
    intraOpNumThreads: 1,
    interOpNumThreads: 1,
  });
  const loadMs = Number(process.hrtime.bigint() - t0) / 1e6;
  if (inputs.length !== session.inputNames.length)
    throw new Error('the model has ' + session.inputNames.length +
                    ' inputs, got ' + inputs.length + ' .npy files');
  const feeds = {};
  session.inputNames.forEach((n, i) => { feeds[n] = readNpy(inputs[i]); });
  let results;
  const times = [];
  for (let k = 0; k < repeat; ++k) {
    const t1 = process.hrtime.bigint();
    results = await session.run(feeds);
    times.push(Number(process.hrtime.bigint() - t1) / 1e6);
  }
  times.sort((a, b) => a - b);
  const runMs = times[0];
  const medianMs = times[Math.floor((times.length - 1) / 2)];
  fs.mkdirSync(outDir, {recursive: true});
  session.outputNames.forEach((n, k) => {
    const file = path.join(outDir, 'output_' + k + '.npy');
    writeNpy(file, results[n]);
    console.log('output ' + k + " '" + n + "' " + results[n].type + ' [' +
                results[n].dims.join(',') + '] -> ' + file);
  });
  console.log('onnxruntime ' + ort.env.versions.common + ': session ' +
              loadMs.toFixed(1) + ' ms, run ' + runMs.toFixed(1) + ' ms, median ' +
              medianMs.toFixed(3) + ' ms over ' + repeat + ' runs');
}

// Other scripts reuse the .npy reader and writer (require('./ort-run.js')).
module.exports = {readNpy, writeNpy};

if (require.main === module) {
  main().catch((e) => {
    console.error('ort-run.js: ' + (e && e.message ? e.message : e));
    process.exit(1);
  });
}
