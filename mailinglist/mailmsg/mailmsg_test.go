package mailmsg

// testdata is the shared real-world mail, relative to this package.
const testdata = "../../../shared/testdata/mail"
