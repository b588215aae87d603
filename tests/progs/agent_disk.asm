; SPDX-License-Identifier: GPL-2.0-or-later
;
; Agent disk: a raw hard-disk image whose guest answers a minimal subset of
; qemu-guest-agent's protocol on the agent port (the 16550A at 0x3E8), for
; the IVMGuestOS tests (tests/appliance/test_zeep_guest_agent.py). It is no
; JSON parser: it collects a line (a 0xFF byte starts afresh, as in the
; real agent), looks for the "execute" names it knows in it, and sends a
; fixed, well-formed reply:
;   guest-sync-delimited   0xFF {"return": ID}, ID copied from "id":
;   guest-ping, guest-set-time, guest-file-close   {"return": {}}
;   guest-info             version "vsa-test-agent 1.0"
;   guest-get-osinfo       pretty-name "VSA Test Agent OS 1.0"
;   guest-get-host-name    host-name "vsa-agent-guest"
;   guest-exec             pid 42
;   guest-exec-status      exited, exitcode 0, out-data "hello\n"
;   guest-file-open        handle 1000
;   guest-file-write       keeps the "buf-b64" text (at most 1 KiB): the
;                          one file this guest has
;   guest-file-read        returns that text
;   guest-shutdown         no reply (as the real agent); powers off through
;                          the APM port 0x8900
;   anything else          {"error": {"class": "CommandNotFound", ...}}
; It reports on COM1: "VSA-AGENT-READY" once listening, "SET-TIME" for each
; guest-set-time, "SHUTDOWN" before powering off.
;
; Image: 2 cylinders x 16 heads x 63 sectors; sector 0 loads sectors 1-7.

bits 16
org 7C00h

%include "com1.asm"

AGENT           equ 3E8h
STAGE2_SECTORS  equ 7
DISK_SECTORS    equ 2 * 16 * 63
LINE_MAX        equ 4096
FILE_MAX        equ 1024
LINE            equ 0A000h              ; the line being received (DS = 0)
FILE            equ LINE + LINE_MAX     ; the one file's base64 text

start:
        jmp 0:main
main:
        cli
        xor ax, ax
        mov ds, ax
        mov es, ax
        mov ss, ax
        mov sp, 7C00h
        cld
        sti
        mov ax, 0200h + STAGE2_SECTORS
        mov cx, 0002h
        xor dh, dh
        mov bx, 7E00h
        int 13h
        jc $
        jmp stage2

        times 510 - ($ - $$) db 0
        dw 0AA55h

; --- Stage 2 -----------------------------------------------------------------

stage2:
        com1_init
        ; The agent port: 115200 8N1, FIFOs on and cleared.
        mov dx, AGENT + 3
        mov al, 80h
        out dx, al
        mov dx, AGENT
        mov al, 1
        out dx, al
        inc dx
        xor al, al
        out dx, al
        mov dx, AGENT + 3
        mov al, 03h
        out dx, al
        mov dx, AGENT + 2
        mov al, 07h
        out dx, al
        mov word [file_len], 0
        call print_inline
        db "VSA-AGENT-READY", 13, 10, 0

.line:  xor di, di                      ; bytes in LINE
.byte:  call agent_getc
        cmp al, 0FFh
        je .line                        ; resync: start afresh
        cmp al, 10
        je .end
        cmp di, LINE_MAX - 1
        jae .byte                       ; too long: the rest is dropped
        mov [LINE + di], al
        inc di
        jmp .byte
.end:   mov byte [LINE + di], 0
        mov [line_len], di
        call handle_line
        jmp .line

; AL = the next byte from the agent port (waits; the idle loop halts
; between the timer's interrupts).
agent_getc:
        push dx
.wait:  mov dx, AGENT + 5
        in al, dx
        test al, 1
        jnz .ready
        hlt
        jmp .wait
.ready: mov dx, AGENT
        in al, dx
        pop dx
        ret

; Sends AL on the agent port.
agent_putc:
        push dx
        push ax
        mov dx, AGENT + 5
.wait:  in al, dx
        test al, 20h
        jz .wait
        pop ax
        mov dx, AGENT
        out dx, al
        pop dx
        ret

; Sends the NUL-terminated string at SI on the agent port.
agent_puts:
        push ax
.next:  lodsb
        test al, al
        jz .done
        call agent_putc
        jmp .next
.done:  pop ax
        ret

; The string after the caller's CALL, on the agent port.
agent_inline:
        pop si
        call agent_puts
        jmp si

; SI = a NUL-terminated pattern: CF clear and BX = just past its first
; occurrence in LINE, else CF set.
find:
        push di
        push cx
        xor bx, bx
.start: mov cx, [line_len]
        cmp bx, cx
        jae .miss
        push si
        push bx
.cmp:   mov al, [si]
        test al, al
        jz .hit
        cmp bx, cx
        jae .no
        cmp al, [LINE + bx]
        jne .no
        inc si
        inc bx
        jmp .cmp
.hit:   add sp, 2                       ; drop the saved start
        pop si
        pop cx
        pop di
        clc
        ret
.no:    pop bx
        pop si
        inc bx
        jmp .start
.miss:  pop cx
        pop di
        stc
        ret

; The known commands, longest names first where one is a prefix of
; another (guest-exec-status before guest-exec).
%macro ON 2                             ; pattern, handler
        mov si, %%name
        call find
        jnc %2
        jmp %%next
%%name: db %1, 0
%%next:
%endmacro

handle_line:
        ON '"guest-sync-delimited"', do_sync
        ON '"guest-exec-status"', do_exec_status
        ON '"guest-exec"', do_exec
        ON '"guest-file-open"', do_file_open
        ON '"guest-file-write"', do_file_write
        ON '"guest-file-read"', do_file_read
        ON '"guest-file-close"', do_empty
        ON '"guest-get-osinfo"', do_osinfo
        ON '"guest-get-host-name"', do_host_name
        ON '"guest-info"', do_info
        ON '"guest-ping"', do_empty
        ON '"guest-set-time"', do_set_time
        ON '"guest-shutdown"', do_shutdown
        ; A blank line (the sentinel's own) is no command.
        cmp word [line_len], 0
        je .done
        call agent_inline
        db '{"error": {"class": "CommandNotFound", "desc": "not in the test agent"}}', 10, 0
.done:  ret

do_empty:
        call agent_inline
        db '{"return": {}}', 10, 0
        ret

do_sync:
        mov si, id_key
        call find
        jc .bad
.skip:  mov al, [LINE + bx]             ; spaces after the colon
        cmp al, ' '
        jne .id
        inc bx
        jmp .skip
.id:    mov al, 0FFh
        call agent_putc
        call agent_inline
        db '{"return": ', 0
.digit: mov al, [LINE + bx]
        cmp al, '0'
        jb .end
        cmp al, '9'
        ja .end
        call agent_putc
        inc bx
        jmp .digit
.end:   call agent_inline
        db '}', 10, 0
        ret
.bad:   call agent_inline
        db '{"error": {"class": "GenericError", "desc": "no id"}}', 10, 0
        ret

do_info:
        call agent_inline
        db '{"return": {"version": "vsa-test-agent 1.0", "supported_commands": []}}', 10, 0
        ret

do_osinfo:
        call agent_inline
        db '{"return": {"id": "vsatest", "name": "VSA Test", "pretty-name": "VSA Test Agent OS 1.0", '
        db '"kernel-release": "1.0"}}', 10, 0
        ret

do_host_name:
        call agent_inline
        db '{"return": {"host-name": "vsa-agent-guest"}}', 10, 0
        ret

do_exec:
        call agent_inline
        db '{"return": {"pid": 42}}', 10, 0
        ret

do_exec_status:
        call agent_inline
        db '{"return": {"exited": true, "exitcode": 0, "out-data": "aGVsbG8K"}}', 10, 0
        ret

do_file_open:
        call agent_inline
        db '{"return": 1000}', 10, 0
        ret

do_file_write:
        mov si, buf_key
        call find
        jc .bad
.skip:  mov al, [LINE + bx]             ; spaces, then the opening quote
        cmp al, ' '
        jne .quote
        inc bx
        jmp .skip
.quote: cmp al, '"'
        jne .bad
        inc bx
        xor di, di
.copy:  mov al, [LINE + bx]
        cmp al, '"'
        je .done
        test al, al
        jz .done
        cmp di, FILE_MAX
        jae .bad
        mov [FILE + di], al
        inc di
        inc bx
        jmp .copy
.done:  mov [file_len], di
        call agent_inline
        db '{"return": {"count": 1, "eof": false}}', 10, 0
        ret
.bad:   call agent_inline
        db '{"error": {"class": "GenericError", "desc": "bad write"}}', 10, 0
        ret

do_file_read:
        call agent_inline
        db '{"return": {"count": 1, "buf-b64": "', 0
        xor bx, bx
.copy:  cmp bx, [file_len]
        jae .end
        mov al, [FILE + bx]
        call agent_putc
        inc bx
        jmp .copy
.end:   call agent_inline
        db '", "eof": true}}', 10, 0
        ret

do_set_time:
        call print_inline
        db "SET-TIME", 13, 10, 0
        jmp do_empty

do_shutdown:
        call print_inline
        db "SHUTDOWN", 13, 10, 0
        mov dx, 8900h
        mov si, shutdown_magic
.out:   lodsb
        test al, al
        jz .halt
        out dx, al
        jmp .out
.halt:  cli
        hlt
        jmp .halt

id_key:         db '"id":', 0
buf_key:        db '"buf-b64":', 0
shutdown_magic: db "Shutdown", 0
line_len:       dw 0
file_len:       dw 0

        com1_print_routines

        times (1 + STAGE2_SECTORS) * 512 - ($ - $$) db 0
        times DISK_SECTORS * 512 - ($ - $$) db 0
