//! Trusting exactly the self-signed test certificate: the SHA-256 of its SubjectPublicKeyInfo,
//! base64, which Chromium's `--ignore-certificate-errors-spki-list` takes.

/// A DER element: its tag, the whole element (header included), its contents, what follows it.
type DerElement<'a> = (u8, &'a [u8], &'a [u8], &'a [u8]);

/// One DER element at the start of `input`: its tag, the whole element (header included), its
/// contents, and what follows it. `None` when `input` is not well-formed DER.
pub fn der_element(input: &[u8]) -> Option<DerElement<'_>> {
    let (&tag, after_tag) = input.split_first()?;
    let (&first_length_byte, after_first) = after_tag.split_first()?;
    let (length, after_length) = if first_length_byte < 0x80 {
        (usize::from(first_length_byte), after_first)
    } else {
        let count = usize::from(first_length_byte & 0x7f);
        if count == 0 || count > 4 || after_first.len() < count {
            return None;
        }
        let length = after_first[..count].iter().fold(0usize, |length, byte| (length << 8) | usize::from(*byte));
        (length, &after_first[count..])
    };
    if after_length.len() < length {
        return None;
    }
    let header_length = input.len() - after_length.len();
    Some((tag, &input[..header_length + length], &after_length[..length], &after_length[length..]))
}

const DER_SEQUENCE: u8 = 0x30;
const DER_EXPLICIT_TAG_0: u8 = 0xa0;

/// The DER `SubjectPublicKeyInfo` of an X.509 certificate (RFC 5280: Certificate ::= SEQUENCE {
/// tbsCertificate SEQUENCE { [0] version OPTIONAL, serialNumber, signature, issuer, validity,
/// subject, subjectPublicKeyInfo, ... }, ... }).
pub fn subject_public_key_info(certificate_der: &[u8]) -> Option<&[u8]> {
    let (DER_SEQUENCE, _, certificate, _) = der_element(certificate_der)? else { return None };
    let (DER_SEQUENCE, _, mut fields, _) = der_element(certificate)? else { return None };
    if der_element(fields)?.0 == DER_EXPLICIT_TAG_0 {
        fields = der_element(fields)?.3;
    }
    for _serial_signature_issuer_validity_subject in 0..5 {
        fields = der_element(fields)?.3;
    }
    let (DER_SEQUENCE, spki, _, _) = der_element(fields)? else { return None };
    Some(spki)
}

/// base64(SHA-256(SubjectPublicKeyInfo)) of the first certificate in `certificate_pem`: the
/// value Chromium's `--ignore-certificate-errors-spki-list` takes.
pub fn spki_sha256_base64(certificate_pem: &str) -> String {
    use base64::Engine;
    let certificate = rustls_pemfile::certs(&mut certificate_pem.as_bytes())
        .next()
        .expect("a certificate in the PEM")
        .expect("a well-formed PEM certificate");
    let spki = subject_public_key_info(certificate.as_ref()).expect("an X.509 certificate with a SubjectPublicKeyInfo");
    base64::engine::general_purpose::STANDARD.encode(ring::digest::digest(&ring::digest::SHA256, spki))
}
