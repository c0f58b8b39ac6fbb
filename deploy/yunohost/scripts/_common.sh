#!/bin/bash
# Shared by the scripts: the Postfix transport that sends the lists' domain
# to placette over LMTP (conf/postfix-transport: one rule).

add_postfix_transport() {
	touch /etc/postfix/transport
	grep -qxF "# placette $app" /etc/postfix/transport || {
		echo "# placette $app" >>/etc/postfix/transport
		cat "/etc/postfix/transport.d/$app" >>/etc/postfix/transport
	}
	postconf -e "transport_maps = hash:/etc/postfix/transport"
	postmap /etc/postfix/transport
	systemctl reload postfix
}

remove_postfix_transport() {
	if [ -f /etc/postfix/transport ]; then
		# The marker line and the one rule after it.
		sed -i "/^# placette $app\$/,+1d" /etc/postfix/transport
		postmap /etc/postfix/transport
		systemctl reload postfix
	fi
	rm -f "/etc/postfix/transport.d/$app"
}
