// Minimal declarations for the parts of sodium-native Tandem uses.
declare module 'sodium-native' {
  const sodium: {
    randombytes_buf(buffer: Buffer): void;
    crypto_generichash(output: Buffer, input: Buffer, key?: Buffer): void;
    crypto_scalarmult(q: Buffer, n: Buffer, p: Buffer): void;
  };
  export default sodium;
}
