/**
 * The coordinator's part of an LR job: it makes the job's CKKS key pair
 * (the only holder of the secret key), gives the parties the public key in
 * their assignment, and answers masked decryption requests with noise
 * flooding (decrypt-service.ts). With differential privacy it learns the
 * training size from the guest (`dp-plan`) and adds the planned Gaussian
 * noise to every gradient it decrypts.
 */
import { randomBytes } from 'node:crypto';
import { CkksKeyHolder, CkksSuite } from '../../protocol/he/ckks.ts';
import { decodeMessage } from '../../protocol/messages.ts';
import { JobError } from '../../protocol/errors.ts';
import { planDp, type DpPlan } from '../../protocol/privacy/dp-plan.ts';
import type { JobSpec } from '../../protocol/job-spec.ts';
import type { Envelope } from '../../protocol/wire/envelope.ts';
import type { Logger } from '../../runtime/logger.ts';
import type { KeyHolder } from '../family.ts';
import { DecryptService } from './decrypt-service.ts';
import { DECRYPT, DECRYPT_RESULT, DP_PLAN } from './messages.ts';

export async function lrKeyHolder(
  jobId: string,
  spec: JobSpec,
  log: Logger,
  saved?: KeyHolder['secrets'],
): Promise<KeyHolder> {
  const suite = await CkksSuite.create(spec.ckks);
  const keys = new CkksKeyHolder(suite, saved?.secretKey);
  const noiseKey = saved?.noiseKey ?? new Uint8Array(randomBytes(32));
  const decrypt = new DecryptService({
    keys,
    q0: suite.q0,
    noiseBits: spec.noiseFloodingBits,
    noiseKey,
    polyModulusDegree: spec.ckks.polyModulusDegree,
  });
  let dp: DpPlan | undefined;
  let dpTrainRows: number | undefined;

  const planPrivacy = (trainRows: number): void => {
    const t = spec.training;
    dp = planDp(spec.dp as NonNullable<JobSpec['dp']>, trainRows, t.batchSize, t.maxEpochs, spec.parties.length);
    dpTrainRows = trainRows;
    log.info(
      { job: jobId, noiseMultiplier: dp.noiseMultiplier, epsilon: dp.epsilonSpent },
      'differential privacy planned',
    );
  };

  return {
    assignment: { ckksPublicKey: keys.publicKey, ckksParamsJson: JSON.stringify(spec.ckks) },
    secrets: { secretKey: keys.exportSecretKey(), noiseKey },
    handle(envelope: Envelope, from, reply) {
      if (envelope.step === DP_PLAN.step) {
        const { trainRows } = decodeMessage(DP_PLAN, envelope.body);
        // The same plan again (a guest resuming after a restart) is no conflict.
        if (spec.dp === undefined || from !== spec.guest.name || (dp !== undefined && dpTrainRows !== trainRows))
          throw new JobError('JOB_STATE_CONFLICT', `unexpected dp-plan from ${from} in job ${jobId}`);
        if (!Number.isInteger(trainRows) || trainRows < 1)
          throw new JobError('JOB_STATE_CONFLICT', `dp-plan from ${from} names ${trainRows} training rows`);
        planPrivacy(trainRows);
        return;
      }
      if (envelope.step !== DECRYPT.step)
        throw new JobError('JOB_STATE_CONFLICT', `the LR key holder does not handle step "${envelope.step}"`);
      const request = decodeMessage(DECRYPT, envelope.body);
      let dpSigma = 0;
      if (spec.dp !== undefined) {
        // Under DP only gradient sums (seq 0) are decrypted, and only with the planned noise.
        if (dp === undefined || envelope.seq !== 0)
          throw new JobError(
            'JOB_STATE_CONFLICT',
            `job ${jobId} is differentially private: only noised gradient sums may be decrypted, after the guest's dp-plan`,
          );
        dpSigma = dp.gradientSigma;
      }
      reply(DECRYPT_RESULT, { values: decrypt.decrypt(envelope.id, request.ciphertexts, dpSigma) });
    },
    state: () => (dpTrainRows === undefined ? {} : { dpTrainRows }),
    restore(state) {
      if (typeof state['dpTrainRows'] === 'number') planPrivacy(state['dpTrainRows']);
    },
    dispose() {
      // The secret key is deleted with the key holder: a finished job's ciphertexts stay sealed forever.
      keys.dispose();
      suite.dispose();
    },
  };
}
