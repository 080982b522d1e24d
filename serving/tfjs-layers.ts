/**
 * A party's part of the model as a TensorFlow.js LayersModel: one Dense
 * layer (linear) from its preprocessed columns to its partial logit — one
 * unit for a binary model, K for a K-class (one-vs-rest) one — with the
 * intercepts as the guest's bias. `tf.loadLayersModel` loads it with
 * plain `@tensorflow/tfjs`; the guest adds the hosts' partials and applies
 * the sigmoid.
 *
 * TF.js stores float32, so the served scores come from the float64 weights
 * in scoring.json (training's own numbers); the LayersModel is checked to
 * hold the same weights rounded to float32 (`checkLayersWeights`).
 */
import type * as TfModule from '@tensorflow/tfjs';

export const LAYER_NAME = 'partial_logit';
export const WEIGHTS_FILE = 'weights.bin';

export type LayersArtifacts = { readonly modelJson: string; readonly weightsBin: Uint8Array };

type Tf = typeof TfModule;
let tfModule: Promise<Tf> | undefined;

/** TF.js, loaded on first use (a few hundred ms) and without its "install tfjs-node" banner. */
export function loadTf(): Promise<Tf> {
  tfModule ??= import('@tensorflow/tfjs').then((tf) => {
    tf.env().set('PROD', true);
    return tf;
  });
  return tfModule;
}

/** The Dense kernel, row-major `[column][output]`, of class-major weights (`weights[c·columns + j]`). */
function kernelOf(weights: readonly number[], outputs: number): number[] {
  const columns = weights.length / outputs;
  return Array.from(
    { length: weights.length },
    (_, k) => weights[(k % outputs) * columns + Math.floor(k / outputs)] ?? 0,
  );
}

/** Builds the LayersModel for class-major `weights` and one bias per output, and returns model.json and weights.bin. */
export async function layersArtifacts(weights: readonly number[], biases: readonly number[]): Promise<LayersArtifacts> {
  const tf = await loadTf();
  const units = biases.length;
  const columns = weights.length / units;
  const model = tf.sequential({ name: 'tandem_party_model' });
  model.add(tf.layers.dense({ units, inputShape: [columns], useBias: true, activation: 'linear', name: LAYER_NAME }));
  const kernel = tf.tensor2d(kernelOf(weights, units), [columns, units]);
  const b = tf.tensor1d([...biases]);
  model.setWeights([kernel, b]);
  kernel.dispose();
  b.dispose();
  let artifacts: LayersArtifacts | undefined;
  await model.save(
    tf.io.withSaveHandler((a) => {
      const data = a.weightData;
      const bytes = data === undefined ? new Uint8Array() : new Uint8Array(Array.isArray(data) ? concat(data) : data);
      const modelJson = {
        modelTopology: a.modelTopology,
        format: a.format,
        generatedBy: a.generatedBy,
        convertedBy: a.convertedBy ?? null,
        weightsManifest: [{ paths: [WEIGHTS_FILE], weights: a.weightSpecs }],
      };
      artifacts = { modelJson: `${JSON.stringify(modelJson, null, 2)}\n`, weightsBin: bytes };
      return Promise.resolve({ modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' as const } });
    }),
  );
  model.dispose();
  if (artifacts === undefined) throw new RangeError('tfjs did not hand over the model artifacts');
  return artifacts;
}

/** Loads the exported LayersModel with plain TF.js from memory (tests, and users who want TF.js). */
export async function loadLayersModel(modelJson: string, weightsBin: Uint8Array): Promise<TfModule.LayersModel> {
  const tf = await loadTf();
  const json = JSON.parse(modelJson) as {
    modelTopology: object;
    weightsManifest: { weights: TfModule.io.WeightsManifestEntry[] }[];
  };
  const buffer = weightsBin.buffer.slice(
    weightsBin.byteOffset,
    weightsBin.byteOffset + weightsBin.byteLength,
  ) as ArrayBuffer;
  return tf.loadLayersModel(
    tf.io.fromMemory({
      modelTopology: json.modelTopology,
      weightSpecs: json.weightsManifest[0]?.weights ?? [],
      weightData: buffer,
    }),
  );
}

/**
 * Checks, without TF.js, that model.json declares one Dense kernel of
 * columns × outputs and a bias, and that weights.bin holds `weights` and
 * `biases` rounded to float32. Returns a problem, or undefined when they agree.
 */
export function checkLayersWeights(
  modelJson: string,
  weightsBin: Uint8Array,
  weights: readonly number[],
  biases: readonly number[],
): string | undefined {
  let specs: { name: string; shape: number[]; dtype: string }[];
  try {
    const json = JSON.parse(modelJson) as {
      weightsManifest?: { weights?: { name: string; shape: number[]; dtype: string }[] }[];
    };
    specs = json.weightsManifest?.[0]?.weights ?? [];
  } catch {
    return 'model.json is not valid JSON';
  }
  const [kernel, b] = specs;
  if (specs.length !== 2 || kernel === undefined || b === undefined)
    return `model.json declares ${specs.length} weight tensors, expected a kernel and a bias`;
  if (kernel.dtype !== 'float32' || b.dtype !== 'float32') return 'model.json declares non-float32 weights';
  const units = biases.length;
  const columns = weights.length / units;
  if (kernel.shape[0] !== columns || kernel.shape[1] !== units || b.shape[0] !== units)
    return `model.json's kernel is [${kernel.shape.join(', ')}], expected [${columns}, ${units}]`;
  if (weightsBin.byteLength !== 4 * (weights.length + units))
    return `weights.bin has ${weightsBin.byteLength} bytes, expected ${4 * (weights.length + units)}`;
  const view = new DataView(weightsBin.buffer, weightsBin.byteOffset, weightsBin.byteLength);
  const expected = [...kernelOf(weights, units), ...biases];
  for (let k = 0; k < expected.length; k++) {
    if (view.getFloat32(4 * k, true) !== Math.fround(expected[k] ?? 0))
      return `weights.bin value ${k} differs from scoring.json`;
  }
  return undefined;
}

function concat(parts: ArrayBuffer[]): ArrayBuffer {
  const out = new Uint8Array(parts.reduce((s, p) => s + p.byteLength, 0));
  let at = 0;
  for (const p of parts) {
    out.set(new Uint8Array(p), at);
    at += p.byteLength;
  }
  return out.buffer;
}
