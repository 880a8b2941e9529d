package protocol

import (
	"bytes"
	"encoding/json"
)

// encodeVerifyRequest is Encode for a VerifyRequest, byte for byte, without
// holding the whole request twice: encoding/json builds a message in a
// buffer of its own before copying it out, which for a request near
// MaxRequestBytes is 64 MiB more at the moment memory peaks. The envelope is
// encoded with an empty list; each signature is encoded on its own and
// appended to one buffer sized in advance.
func encodeVerifyRequest(req *VerifyRequest) ([]byte, error) {
	head := *req
	head.Signatures = []Signature{}
	envelope, err := encodeSmall(&head)
	if err != nil {
		return nil, err
	}
	// Signatures is the last field: the envelope ends with its empty list.
	const tail = "[]}\n"
	if !bytes.HasSuffix(envelope, []byte(tail)) {
		return encodeSmall(req)
	}
	size := int64(len(envelope))
	for _, s := range req.Signatures {
		size += signatureSizeHint(s)
	}
	out := make([]byte, 0, size)
	out = append(out, envelope[:len(envelope)-len(tail)]...)
	out = append(out, '[')
	for i := range req.Signatures {
		if i > 0 {
			out = append(out, ',')
		}
		one, err := encodeSmall(&req.Signatures[i])
		if err != nil {
			return nil, err
		}
		out = append(out, one[:len(one)-1]...) // without the newline
	}
	return append(out, "]}\n"...), nil
}

func signatureSizeHint(s Signature) int64 {
	switch s.Format {
	case FormatSigstoreJSON:
		return AttachmentCost(s.MIMEType, int64(len(s.Payload)), s.Annotations)
	case FormatSigstoreBundle:
		return BundleCost(s.MediaType, int64(len(s.Bundle)))
	default:
		return 256
	}
}

func encodeSmall(message any) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(message); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}
