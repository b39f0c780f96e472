export * from './aes-gcm-codec';
export * from './data-converter';
export * from './keys';
