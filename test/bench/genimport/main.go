// Command genimport writes a provisioning file of N accounts with one DID
// each, for measuring `kradius import`. Every account shares one argon2id
// hash: hashing a million passwords would measure argon2, not the import.
//
// With -sip-users it adds the FireBrick's data for make bench: SIP users
// sip0 … with the password "password" in realm sip.example (the import
// hashes each into its own HA1, an MD5), and the route 44* with two legs.
//
// With -carriers it adds the Dialogic IMG's carriers for make bench, as in
// the demo data: the Primary Carrier, whose network (10.0.0.0/8) holds the
// IMG's VoIP gateway 10.0.0.2, and partnerA, on trunk 7 of IMG 10.0.0.1.
// The dialogic mix's calls come in on that trunk and leave by that
// gateway, so each Stop settles as partnerA to primary.
package main

import (
	"bufio"
	"flag"
	"fmt"
	"os"

	"kradius.dev/services/password"
)

func main() {
	n := flag.Int("n", 1000000, "accounts")
	out := flag.String("o", "accounts.json", "output file")
	sipUsers := flag.Int("sip-users", 0, "FireBrick SIP users, and the route 44*")
	carriers := flag.Bool("carriers", false, "the Dialogic IMG's carriers: primary (10.0.0.0/8) and partnerA (IMG 10.0.0.1, trunk 7)")
	flag.Parse()
	hash, err := password.Hash("password", password.DefaultParams)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	f, err := os.Create(*out)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	w := bufio.NewWriterSize(f, 1<<20)
	fmt.Fprint(w, "{\"accounts\": [\n")
	for i := range *n {
		sep := ","
		if i == *n-1 {
			sep = ""
		}
		fmt.Fprintf(w, "{\"name\": \"user%d\", \"passwordHash\": %q, \"type\": 4}%s\n", i, hash, sep)
	}
	fmt.Fprint(w, "],\n\"dids\": [\n")
	for i := range *n {
		sep := ","
		if i == *n-1 {
			sep = ""
		}
		fmt.Fprintf(w, "{\"number\": \"1%09d\", \"account\": \"user%d\"}%s\n", i, i, sep)
	}
	fmt.Fprint(w, "]")
	if *sipUsers > 0 {
		fmt.Fprint(w, ",\n\"firebrick.users\": [\n")
		for i := range *sipUsers {
			sep := ","
			if i == *sipUsers-1 {
				sep = ""
			}
			fmt.Fprintf(w, "{\"name\": \"sip%d\", \"extension\": \"%d\", \"passwords\": {\"sip.example\": \"password\"}}%s\n", i, 100000+i, sep)
		}
		// A national prefix to two carriers, the second after a delay: a
		// routed INVITE's Accept carries both legs.
		fmt.Fprint(w, "],\n\"firebrick.routes\": [\n")
		fmt.Fprint(w, "{\"pattern\": \"44*\", \"legs\": [{\"target\": \"@carrierA\"}, {\"target\": \"@carrierB\", \"delaySeconds\": 10}]}\n]")
	}
	if *carriers {
		fmt.Fprint(w, ",\n\"carriers\": [\n")
		fmt.Fprint(w, "{\"name\": \"primary\", \"primary\": true, \"sourceCidrs\": [\"10.0.0.0/8\"]},\n")
		fmt.Fprint(w, "{\"name\": \"partnerA\", \"trunks\": [{\"img\": \"10.0.0.1\", \"trunkId\": \"7\"}]}\n]")
	}
	fmt.Fprint(w, "}\n")
	if err = w.Flush(); err == nil {
		err = f.Close()
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}
